#!/usr/bin/env python3
"""gen-tables.py - random table pairs for the reconcile differential test.

    gen-tables.py gen SEED NTABLES DIR [ONLY]
        writes DIR/legacy.sql and DIR/odoo.sql (one table pair per step),
        DIR/stream.yaml and DIR/checksum.yaml (the same reconcile steps, one
        per table, with method: stream and method: checksum with small
        bisection settings), and DIR/truth.json: per step what was
        generated (its seed and schema) and what the comparison must find,
        computed here from each value's meaning. ONLY (comma-separated
        table numbers) keeps just those tables; every table has its own
        random generator seeded "SEED-N", so a table is the same whatever
        else is generated.
    gen-tables.py compare DIR
        reads DIR/{stream,checksum}/status.json (cutover status --json),
        DIR/{stream,checksum}/STEP.diff.json (cutover diff) and
        DIR/{stream,checksum}/STEP.log (cutover log) and checks, per step:
        both methods' results equal (except the members only checksum
        has), both methods' differences and output equal (but the method
        and progress lines), and stream's result equal to the truth (so
        both methods being wrong the same way fails too).
        Prints every mismatch with the table's seed, schema and both
        results; exits 1 if there was any.

Each table pair is a legacy side and an odoo side whose column types differ
the way the by-meaning rules allow (numeric scales, float -0, timestamp in a
declared zone against timestamptz, char(n) against varchar, booleans as
text or numbers, uuid against upper-case text), with random NULLs, '' and
NULL, non-ASCII and case-different text, random key types (int, bigint,
numeric, text, uuid, composite of 2-3 columns) and planted differences:
missing, extra and changed rows, changes that cancel in a naive sum (+1 in
one row, -1 in another; +1 and -1 in two columns of one row), rows whose
values are swapped between two keys, '' against NULL. A tenth of the
tables have no primary key: a key with a NULL (on one side or both), and
some keys repeated (DIFF_DUP_VALUES=1, the differential test's default: with
other values; else copies of a row); for
those the truth is only the row and repeat counts, since which repeated
row pairs with which is the merge's rule.
"""
import datetime as dt
import decimal
import json
import os
import random
import re
import sys
import uuid as uuidlib
import zoneinfo

D = decimal.Decimal
UTC = dt.timezone.utc
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata",
         "Australia/Lord_Howe", "+05:30", "-03:00"]
WORDS = ["apple", "Apple", "APPLE", "éclair", "Éclair", "eclair", "Zeta",
         "zeta", "straße", "STRASSE", "日本", "naïve", "Ñandú", "ñandú",
         "a b", "a_b", "a-b", "O'Brien", 'say "hi"', "back\\slash",
         "tab\there", "line\nbreak", "emoji \U0001F600", "Ω", "ω", "z", "Z",
         "0", "00", "10", "9", "~", " lead", "trail "]


def q(s):
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def num_canon(s):
    """A number's text by value: 1.00 -> 1, -0 -> 0."""
    d = D(s)
    if d == 0:
        return "0"
    t = format(d.normalize(), "f")
    return t


def zone_of(name):
    if name[0] in "+-":
        sign = 1 if name[0] == "+" else -1
        h, m = name[1:].split(":")
        return dt.timezone(sign * dt.timedelta(hours=int(h), minutes=int(m)))
    return zoneinfo.ZoneInfo(name)


def local_text(instant, zone, rng):
    """The wall-clock text of instant in zone; None when that wall time is
    ambiguous or skipped there (a DST change)."""
    loc = instant.astimezone(zone).replace(tzinfo=None)
    for fold in (0, 1):
        back = loc.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if back != instant:
            return None
    return ts_text(loc, rng)


def ts_text(t, rng):
    s = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond:
        frac = "%06d" % t.microsecond
        if rng.random() < 0.5:
            frac = frac.rstrip("0")
        s += "." + frac
    elif rng.random() < 0.2:
        s += ".000"
    return s


# ---------------------------------------------------------------- columns
#
# A column kind has both sides' SQL types, a generator of meanings, how a
# meaning is written on each side (a SQL literal), a mutation to another
# meaning, and canon(meaning, empty_is_null): what the comparison sees.

class Col:
    nullable = True
    number = False   # a key of this kind orders by value
    sortkey = None

    def __init__(self, rng, t):
        self.rng = rng
        self.t = t

    def canon(self, v, ein):
        return v

    def mutate(self, v):
        while True:
            w = self.gen()
            if self.canon(w, False) != self.canon(v, False):
                return w


class IntCol(Col):
    number = True

    def __init__(self, rng, t, big=False):
        super().__init__(rng, t)
        self.big = big
        self.src_type = "bigint" if big else "integer"
        self.dst_type = rng.choice(["bigint", "integer"]) if not big \
            else "bigint"
        self.lim = 9 * 10**18 if big else 2 * 10**9

    def gen(self):
        return self.rng.randint(-self.lim, self.lim)

    def src(self, v):
        return "NULL" if v is None else str(v)

    dst = src

    def delta(self, v, d):
        return None if v is None else v + d

    def sortkey(self, v):
        return D(v)

    def keytext(self, v):
        return str(v)


class NumCol(Col):
    """numeric (scale as written) against numeric(18,3), or float8 (with
    -0) against numeric(18,2)."""
    number = True

    def __init__(self, rng, t, key=False):
        super().__init__(rng, t)
        self.float = not key and rng.random() < 0.3
        self.src_type = "double precision" if self.float else "numeric"
        self.dst_type = "numeric(18,2)" if self.float else "numeric(18,3)"

    def gen(self):
        r = self.rng.random()
        if r < 0.1:
            return D(0)
        if self.float:
            return D(self.rng.randint(-100000, 100000)) / 10
        return D(self.rng.randint(-10**9, 10**9)) / 100

    def src(self, v):
        if v is None:
            return "NULL"
        if self.float:
            if v == 0 and self.rng.random() < 0.6:
                return "'-0'::float8"
            return "'%s'::float8" % v
        # scale as written: 1.5, 1.50, 1.500; zero as -0.0 sometimes
        s = format(v, "f")
        if "." not in s and self.rng.random() < 0.5:
            s += ".0"
        s += "0" * self.rng.randint(0, 2) if "." in s else ""
        if v == 0 and self.rng.random() < 0.5:
            s = "-0.0"
        return "'%s'::numeric" % s

    def dst(self, v):
        if v is None:
            return "NULL"
        return "'%s'" % format(v, "f")

    def canon(self, v, ein):
        return None if v is None else num_canon(v)

    def delta(self, v, d):
        return None if v is None else v + d

    def sortkey(self, v):
        return D(v)

    def keytext(self, v):
        return num_canon(v)


class TextCol(Col):
    def __init__(self, rng, t, key=False):
        super().__init__(rng, t)
        self.key = key
        self.src_type = "text"
        self.dst_type = rng.choice(["text", "varchar(80)", "varchar"])

    def gen(self):
        r = self.rng.random()
        w = self.rng.choice(WORDS)
        if r < 0.3:
            return w
        if r < 0.35 and not self.key:
            return ""
        return w + " " + str(self.rng.randint(0, 10**6))

    def src(self, v):
        return "NULL" if v is None else q(v)

    dst = src

    def canon(self, v, ein):
        return None if v is None or (ein and v == "") else v

    def mutate(self, v):
        r = self.rng.random()
        if v and r < 0.4:
            # one letter's case, or an accent: differs byte-wise
            for a, b in (("e", "é"), ("a", "A"), ("A", "a"), ("é", "e"),
                         ("E", "É"), ("z", "Z")):
                if a in v:
                    return v.replace(a, b, 1)
        return super().mutate(v)

    def sortkey(self, v):
        return v.encode()

    def keytext(self, v):
        return v


class CharCol(Col):
    """char(12) against varchar(16): trailing blanks are padding."""

    def __init__(self, rng, t):
        super().__init__(rng, t)
        self.src_type = "char(12)"
        self.dst_type = "varchar(16)"

    def gen(self):
        r = self.rng.random()
        if r < 0.1:
            return ""
        return self.rng.choice(["AB", "ab", "A B", "x", "Zé", "code"]) + \
            str(self.rng.randint(0, 999))

    def src(self, v):
        return "NULL" if v is None else q(v)

    def dst(self, v):
        if v is None:
            return "NULL"
        return q(v + " " * self.rng.choice([0, 0, 1, 3]))

    def canon(self, v, ein):
        if v is None:
            return None
        v = v.rstrip(" ")
        return None if ein and v == "" else v


class BoolCol(Col):
    def __init__(self, rng, t):
        super().__init__(rng, t)
        self.how = rng.choice(["bool", "int", "text"])
        self.src_type = {"bool": "boolean", "int": "smallint",
                         "text": "text"}[self.how]
        self.dst_type = "boolean"

    def gen(self):
        return self.rng.random() < 0.5

    def src(self, v):
        if v is None:
            return "NULL"
        if self.how == "bool":
            return "true" if v else "false"
        if self.how == "int":
            return "1" if v else "0"
        return q(self.rng.choice(["t", "true", "TRUE", "yes", "Y", "on", "1"]
                                 if v else
                                 ["f", "false", "No", "n", "OFF", "0"]))

    def dst(self, v):
        return "NULL" if v is None else ("true" if v else "false")

    def mutate(self, v):
        return not v


class TsCol(Col):
    """timestamp read in the source's declared zone, against timestamptz
    (or a timestamp in the dest's declared zone)."""

    def __init__(self, rng, t):
        super().__init__(rng, t)
        self.src_type = "timestamp"
        self.dst_type = rng.choice(["timestamptz", "timestamp"])

    def gen(self):
        while True:
            t = dt.datetime(2000, 1, 1, tzinfo=UTC) + dt.timedelta(
                seconds=self.rng.randint(0, 30 * 365 * 86400))
            if self.rng.random() < 0.3:
                t += dt.timedelta(microseconds=self.rng.randint(1, 999999))
            if self.src_text(t) is not None and self.dst_text(t) is not None:
                return t

    def src_text(self, v):
        return local_text(v, zone_of(self.t.tz[0]), self.rng)

    def dst_text(self, v):
        if self.dst_type == "timestamp":
            return local_text(v, zone_of(self.t.tz[1]), self.rng)
        z = zone_of(self.rng.choice(ZONES))
        s = ts_text(v.astimezone(z), self.rng)
        off = v.astimezone(z).utcoffset()
        m = int(off.total_seconds()) // 60
        return s + "%s%02d:%02d" % ("+" if m >= 0 else "-", abs(m) // 60,
                                    abs(m) % 60)

    def src(self, v):
        return "NULL" if v is None else q(self.src_text(v))

    def dst(self, v):
        return "NULL" if v is None else q(self.dst_text(v))

    def canon(self, v, ein):
        return None if v is None else v.isoformat()

    def mutate(self, v):
        for d in self.rng.sample([dt.timedelta(microseconds=1),
                                  dt.timedelta(seconds=1),
                                  dt.timedelta(hours=1),
                                  dt.timedelta(days=-1)], 4):
            w = v + d
            if self.src_text(w) is not None and \
                    self.dst_text(w) is not None:
                return w
        return super().mutate(v)


class UuidCol(Col):
    """uuid; as a non-key column against upper-case text."""

    def __init__(self, rng, t, key=False):
        super().__init__(rng, t)
        self.key = key
        self.src_type = "uuid"
        self.dst_type = "uuid" if key else "text"

    def gen(self):
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    def src(self, v):
        return "NULL" if v is None else q(v)

    def dst(self, v):
        if v is None:
            return "NULL"
        return q(v if self.key else v.upper())

    def sortkey(self, v):
        return v.encode()

    def keytext(self, v):
        return v


VALUE_KINDS = [IntCol, NumCol, NumCol, TextCol, TextCol, CharCol, BoolCol,
               TsCol, UuidCol]


# ---------------------------------------------------------------- tables

class Table:
    def __init__(self, seed, n):
        self.n = n
        self.name = "t%03d" % n
        self.seed = "%s-%d" % (seed, n)
        rng = self.rng = random.Random(self.seed)
        self.tz = [rng.choice(ZONES), rng.choice(ZONES)]
        self.ein = rng.random() < 0.5
        self.keys = self.key_cols()
        self.vals = [rng.choice(VALUE_KINDS)(rng, self)
                     for _ in range(rng.randint(0, 5))]
        if not self.vals and rng.random() < 0.7:
            self.vals = [TextCol(rng, self)]
        self.cols = self.keys + self.vals
        self.null_rate = rng.choice([0, 0.05, 0.3])
        self.nrows = self.pick_size()
        self.factor = rng.randint(2, 4)
        self.threshold = rng.randint(1, 8)
        self.planted = []
        # no primary key, and a row whose key has a NULL (NULLs sort last)
        self.nullkey = rng.random() < 0.1

    def key_cols(self):
        rng = self.rng
        kind = rng.choice(["int", "bigint", "numeric", "text", "uuid",
                           "composite"])
        if kind == "composite":
            mk = [lambda: IntCol(rng, self), lambda: TextCol(rng, self, True),
                  lambda: NumCol(rng, self, True),
                  lambda: UuidCol(rng, self, True)]
            return [rng.choice(mk)() for _ in range(rng.randint(2, 3))]
        return [{"int": lambda: IntCol(rng, self),
                 "bigint": lambda: IntCol(rng, self, True),
                 "numeric": lambda: NumCol(rng, self, True),
                 "text": lambda: TextCol(rng, self, True),
                 "uuid": lambda: UuidCol(rng, self, True)}[kind]()]

    def pick_size(self):
        r = self.rng.random()
        if r < 0.12:
            return self.rng.randint(0, 3)
        if r < 0.6:
            return self.rng.randint(4, 200)
        if r < 0.9:
            return self.rng.randint(200, 1500)
        return self.rng.randint(1500, 3500)

    def new_key(self, taken):
        rng = self.rng
        small = len(self.keys) > 1 and rng.random() < 0.5
        while True:
            k = []
            for i, c in enumerate(self.keys):
                # composite keys share leading values, so ranges split
                # inside a group
                if i == len(self.keys) - 1:
                    k.append(c.gen())
                elif small and isinstance(c, IntCol):
                    k.append(rng.randint(-50, 50))
                elif small and isinstance(c, TextCol):
                    k.append(rng.choice(WORDS))
                else:
                    k.append(c.gen())
            k = tuple(k)
            ck = self.key_canon(k)
            if ck not in taken:
                taken.add(ck)
                return k

    def key_canon(self, k):
        return tuple(None if v is None else c.keytext(v)
                     for c, v in zip(self.keys, k))

    def null_key(self, taken):
        """A key with a NULL in one of its columns."""
        k = list(self.new_key(taken))
        k[self.rng.randrange(len(k))] = None
        k = tuple(k)
        taken.add(self.key_canon(k))
        return k

    def new_vals(self):
        return [None if c.nullable and self.rng.random() < self.null_rate
                else c.gen() for c in self.vals]

    def build(self):
        rng = self.rng
        taken = set()
        src = {}
        for _ in range(self.nrows):
            src[self.new_key(taken)] = self.new_vals()
        if self.nullkey:
            where = self.rng.choice(["both", "source", "dest"])
            self.nullrow = (self.null_key(taken), self.new_vals(), where)
            if where != "dest":
                src[self.nullrow[0]] = list(self.nullrow[1])
        dst = {k: list(v) for k, v in src.items()}
        if self.nullkey and self.nullrow[2] == "dest":
            dst[self.nullrow[0]] = list(self.nullrow[1])
        if self.nullkey and self.nullrow[2] == "source":
            del dst[self.nullrow[0]]
        if rng.random() < 0.03:
            dst = {}
            self.planted.append("dest empty")
        elif rng.random() < 0.03:
            src = {}
            self.planted.append("source empty")
        else:
            self.plant(src, dst, taken)
        self.src, self.dst = src, dst
        self.dups = [[], []]
        if self.nullkey and rng.random() < 0.5:
            self.plant_dups()

    def plant_dups(self):
        """Rows whose keys repeat, on one side or both (no primary key)."""
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            side = rng.randrange(2)
            rows = self.src if side == 0 else self.dst
            if not rows:
                continue
            k = rng.choice(list(rows))
            # DIFF_DUP_VALUES=1: repeated keys with other values, whose
            # pairing depends on the order a server returns equal keys in
            v = self.new_vals() if os.environ.get("DIFF_DUP_VALUES") == "1" \
                else None
            self.dups[side].append((k, v))
            self.planted.append("duplicate key in " +
                                ("source" if side == 0 else "dest"))

    def plant(self, src, dst, taken):
        rng = self.rng
        n = len(src)
        many = rng.random() < 0.1
        k = rng.randint(0, max(1, n // 4)) if many else \
            rng.randint(0, min(12, n + 2))
        for _ in range(k):
            keys = list(dst)
            what = rng.choice(["missing", "extra", "changed", "changed",
                               "cancel", "swap", "empty"])
            if what == "extra" or not keys:
                dst[self.new_key(taken)] = self.new_vals()
                self.planted.append("extra")
                continue
            key = rng.choice(keys)
            if what == "missing":
                del dst[key]
            elif what == "changed" and self.vals:
                i = rng.randrange(len(self.vals))
                dst[key][i] = self.vals[i].mutate(dst[key][i]) \
                    if dst[key][i] is not None else self.vals[i].gen()
            elif what == "cancel":
                what = self.plant_cancel(dst, keys)
            elif what == "swap" and len(keys) > 1:
                other = rng.choice(keys)
                dst[key], dst[other] = dst[other], dst[key]
            elif what == "empty":
                what = self.plant_empty(dst, key)
            self.planted.append(what)

    def plant_cancel(self, dst, keys):
        """+1 and -1: in one column of two rows, or two columns of a row."""
        rng = self.rng
        nums = [i for i, c in enumerate(self.vals)
                if isinstance(c, (IntCol, NumCol))]
        if not nums:
            return "cancel (no number column)"
        a, b = rng.choice(keys), rng.choice(keys)
        i = rng.choice(nums)
        j = rng.choice([n for n in nums if type(self.vals[n]) is
                        type(self.vals[i])]) if a == b else i
        if dst[a][i] is None or dst[b][j] is None:
            return "cancel (NULL)"
        d = 1 if isinstance(self.vals[i], IntCol) else D("0.1")
        dst[a][i] = self.vals[i].delta(dst[a][i], d)
        dst[b][j] = self.vals[j].delta(dst[b][j], -d)
        return "cancel"

    def plant_empty(self, dst, key):
        """'' where the other side has NULL, or the reverse."""
        texts = [i for i, c in enumerate(self.vals)
                 if isinstance(c, (TextCol, CharCol))]
        if not texts:
            return "empty (no text column)"
        i = self.rng.choice(texts)
        dst[key][i] = "" if dst[key][i] is None else None
        return "empty-vs-null"

    # ------------------------------------------------------------ output

    def ddl(self, side):
        types = [c.src_type if side == 0 else c.dst_type for c in self.cols]
        names = self.names()
        cols = ", ".join("%s %s" % (n, t) for n, t in zip(names, types))
        if self.nullkey:
            return "CREATE TABLE %s (%s);\n" % (self.name, cols)
        return "CREATE TABLE %s (%s, PRIMARY KEY (%s));\n" % (
            self.name, cols, ", ".join(names[:len(self.keys)]))

    def names(self):
        return ["k%d" % (i + 1) for i in range(len(self.keys))] + \
            ["c%d" % (i + 1) for i in range(len(self.vals))]

    def inserts(self, side):
        rows = self.src if side == 0 else self.dst
        text = {k: self.row_text(side, k, v) for k, v in rows.items()}
        lines = list(text.values())
        for k, v in self.dups[side]:
            # a copy is the same text: whichever of the two rows a server
            # sorts first, the comparison is the same
            lines.append(text[k] if v is None else self.row_text(side, k, v))
        self.rng.shuffle(lines)
        out = []
        for at in range(0, len(lines), 500):
            out.append("INSERT INTO %s VALUES\n%s;\n" % (
                self.name, ",\n".join(lines[at:at + 500])))
        return "".join(out)

    def row_text(self, side, k, v):
        lits = [(c.src if side == 0 else c.dst)(x)
                for c, x in zip(self.cols, list(k) + list(v))]
        return "(" + ", ".join(lits) + ")"

    def schema(self):
        return {"source": self.ddl(0).strip(), "dest": self.ddl(1).strip(),
                "timezone": self.tz, "empty_is_null": self.ein,
                "key_numbers": [c.number for c in self.keys],
                "null_key": self.nullrow[2] if self.nullkey else None,
                "rows": [len(self.src), len(self.dst)],
                "planted": self.planted,
                "bisection_factor": self.factor,
                "bisection_threshold": self.threshold}

    def truth(self):
        """What the comparison must find, from the meanings."""
        ein = self.ein
        nk = len(self.keys)
        sk = {self.key_canon(k): k for k in self.src}
        dk = {self.key_canon(k): k for k in self.dst}
        missing = [sk[c] for c in sk if c not in dk]
        extra = [dk[c] for c in dk if c not in sk]
        changed, cols = [], {}
        for c in sk:
            if c not in dk:
                continue
            a, b = self.src[sk[c]], self.dst[dk[c]]
            diff = [i for i, col in enumerate(self.vals)
                    if col.canon(a[i], ein) != col.canon(b[i], ein)]
            if diff:
                changed.append(sk[c])
            for i in diff:
                name = "c%d" % (i + 1)
                cols[name] = cols.get(name, 0) + 1

        def order(k):
            return tuple((1,) if v is None else (0, c.sortkey(v))
                         for c, v in zip(self.keys, k))

        def sample(keys):
            keys = sorted(keys, key=order)[:20]
            out = [list(self.key_canon(k)) for k in keys]
            return [k[0] for k in out] if nk == 1 else out

        if self.dups[0] or self.dups[1]:
            # how repeated keys pair is the merge's business: only what
            # does not depend on it
            return {"source_rows": len(self.src) + len(self.dups[0]),
                    "dest_rows": len(self.dst) + len(self.dups[1]),
                    "duplicate_keys": {"source": len(self.dups[0]),
                                       "dest": len(self.dups[1])},
                    "partial": True}
        return {"source_rows": len(self.src), "dest_rows": len(self.dst),
                "matched": len(sk) - len(missing) - len(changed),
                "missing": len(missing), "extra": len(extra),
                "changed": len(changed),
                "samples": {"missing": sample(missing),
                            "extra": sample(extra),
                            "changed": sample(changed)},
                "changed_columns": cols,
                "duplicate_keys": {"source": 0, "dest": 0}}

    def step(self, method):
        names = self.names()
        sel = "SELECT %s FROM %s" % (", ".join(names), self.name)
        lines = ["      - id: %s" % self.name,
                 "        type: reconcile",
                 "        compare: rows",
                 "        key: %d" % len(self.keys),
                 "        tolerance: 100000000",
                 "        timeout: 10m"]
        if method is not None:
            lines.append("        method: %s" % method)
        if method == "checksum":
            lines.append("        bisection_factor: %d" % self.factor)
            lines.append("        bisection_threshold: %d" % self.threshold)
        if self.ein:
            lines.append("        empty_is_null: true")
        lines.append("        source: {target: legacy, query: \"%s\", "
                     "timezone: \"%s\"}" % (sel, self.tz[0]))
        lines.append("        dest: {target: odoo, query: \"%s\", "
                     "timezone: \"%s\"}" % (sel, self.tz[1]))
        return "\n".join(lines) + "\n"


def runbook(tables, method):
    head = """cutover: 1
name: reconcile-differential-%s
targets:
  legacy: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=legacy"}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=odoo"}
phases:
  - id: p
    steps:
""" % (method or "default")
    return head + "".join(t.step(method) for t in tables)


def gen(seed, ntables, out, only=None):
    want = None if not only else {int(x) for x in only.split(",")}
    tables = []
    for n in range(ntables):
        if want is not None and n not in want:
            continue
        t = Table(seed, n)
        t.build()
        tables.append(t)
    os.makedirs(out, exist_ok=True)
    for side, db in ((0, "legacy"), (1, "odoo")):
        with open(os.path.join(out, db + ".sql"), "w") as f:
            f.write("SET client_min_messages = warning;\nBEGIN;\n")
            for t in tables:
                f.write(t.ddl(side))
                f.write(t.inserts(side))
            f.write("COMMIT;\nANALYZE;\n")
    methods = os.environ.get("DIFF_METHODS", "stream checksum").split()
    for m in methods:
        with open(os.path.join(out, m + ".yaml"), "w") as f:
            f.write(runbook(tables, None if m == "default" else m))
    truth = {t.name: {"seed": t.seed, "schema": t.schema(),
                      "result": t.truth()} for t in tables}
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)
    rows = sum(len(t.src) + len(t.dst) + len(t.dups[0]) + len(t.dups[1])
               for t in tables)
    print("%d tables, %d rows in all" % (len(tables), rows))


# ---------------------------------------------------------------- compare

CHECKSUM_ONLY = ("method", "ranges", "fetched_rows")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"unreadable": "%s: %s" % (path, e)}


def strip_method(r):
    if not isinstance(r, dict):
        return r
    return {k: v for k, v in r.items() if k not in CHECKSUM_ONLY}


def canon_samples(r, keys_number):
    """A result's sample keys with numbers by value (each side prints a
    number key with its own scale)."""
    r = json.loads(json.dumps(r))
    for kind, keys in r.get("samples", {}).items():
        for i, k in enumerate(keys):
            parts = k if isinstance(k, list) else [k]
            parts = [num_canon(p) if isnum and p is not None else p
                     for p, isnum in zip(parts, keys_number)]
            keys[i] = parts if isinstance(k, list) else parts[0]
    return r


def compare(out, methods):
    truth = load(os.path.join(out, "truth.json"))
    status = {}
    for m in methods:
        st = load(os.path.join(out, m, "status.json"))
        status[m] = {s["id"]: s for s in st.get("steps", [])}
    bad = 0
    for step, t in truth.items():
        res = {m: status[m].get(step, {}).get("result") for m in methods}
        state = {m: status[m].get(step, {}).get("state") for m in methods}
        dif = {m: load(os.path.join(out, m, step + ".diff.json"))
               for m in methods}
        why = []
        a, b = methods[0], methods[-1]
        for m in methods:
            if state[m] != "succeeded":
                why.append("%s: step %s" % (m, state[m] or "not run"))
        if strip_method(res[a]) != strip_method(res[b]):
            why.append("%s and %s results differ" % (a, b))
        if dif[a] != dif[b]:
            same_set = isinstance(dif[a], list) and isinstance(dif[b], list) \
                and sorted(map(json.dumps, dif[a])) == \
                sorted(map(json.dumps, dif[b]))
            why.append("%s and %s differences differ%s" % (
                a, b, " (only in order)" if same_set else ""))
        keys_number = t["schema"]["key_numbers"]
        got = canon_samples(strip_method(res[a]), keys_number)
        want = canon_samples(t["result"], keys_number)
        if t["result"].get("partial"):
            want = {k: v for k, v in want.items() if k != "partial"}
            got = {k: got.get(k) for k in want}
        if got != want:
            why.append("%s differs from what was planted" % a)
        logs = {m: log_lines(os.path.join(out, m, step + ".log"))
                for m in methods}
        if logs[a] != logs[b]:
            why.append("%s and %s step output differs (beyond the method "
                       "and progress lines)" % (a, b))
        nd = -1 if t["result"].get("partial") else \
            t["result"]["missing"] + t["result"]["extra"] + \
            t["result"]["changed"]
        if not isinstance(dif[a], list) or nd not in (-1, len(dif[a])):
            why.append("%s diff has %s entries, %d planted" % (
                a, len(dif[a]) if isinstance(dif[a], list) else "no", nd))
        if why:
            bad += 1
            report(step, t, why, res, dif, logs, methods)
    print("compared %d steps: %d mismatched" % (len(truth), bad))
    return 1 if bad else 0


def log_lines(path):
    """cutover log's lines of a step but the method and progress lines,
    with the attempt's times taken out."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return ["unreadable: %s" % e]
    out = []
    for line in lines:
        if line.startswith(("method:", "checksum:")):
            continue
        out.append(re.sub(r"started \S+, ended \S+", "", line))
    return out


def report(step, t, why, res, dif, logs, methods):
    w = sys.stdout.write
    seed, n = t["seed"].rsplit("-", 1)
    w("MISMATCH %s (table seed %s; repeat with DIFF_SEED=%s DIFF_ONLY=%s): "
      "%s\n" % (step, t["seed"], seed, n, "; ".join(why)))
    w("  schema: %s\n" % json.dumps(t["schema"], ensure_ascii=False))
    w("  planted (truth): %s\n" % json.dumps(t["result"], ensure_ascii=False))
    for m in methods:
        w("  %s result: %s\n" % (m, json.dumps(res[m], ensure_ascii=False)))
    for m in methods:
        d = dif[m]
        s = json.dumps(d[:10] if isinstance(d, list) else d,
                       ensure_ascii=False)
        w("  %s diff (%s entries, first 10): %s\n" % (
            m, len(d) if isinstance(d, list) else "?", s))
    for m in methods:
        w("  %s output (no method or progress lines):\n" % m)
        for line in logs[m][:30]:
            w("    | %s\n" % line)


def main(argv):
    if len(argv) >= 5 and argv[1] == "gen":
        gen(argv[2], int(argv[3]), argv[4], argv[5] if len(argv) > 5 else None)
        return 0
    if len(argv) >= 3 and argv[1] == "compare":
        methods = os.environ.get("DIFF_METHODS", "stream checksum").split()
        return compare(argv[2], methods)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
