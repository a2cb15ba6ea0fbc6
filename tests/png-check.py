#!/usr/bin/env python3
# png-check.py FILE WIDTH HEIGHT [RRGGBB...]: FILE is a PNG of that size,
# not blank (many colours, much non-white), showing each colour on >= 200
# pixels (bars, not stray anti-aliasing). Python's standard library only.
import struct, sys, zlib
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
want = [tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in sys.argv[4:]]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
width, height, depth, ctype = ihdr[:4]
assert (width, height) == (w, h), "size %dx%d" % (width, height)
assert depth == 8 and ctype in (2, 6), "PNG type %d/%d" % (depth, ctype)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), width * bpp
prev, rows, p = bytearray(stride), [], 0
for y in range(height):
    f, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
    p += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pr) & 255
    rows.append(line)
    prev = line
count, white = {}, 0
for line in rows:
    for i in range(0, stride, bpp):
        px = bytes(line[i:i + 3])
        count[px] = count.get(px, 0) + 1
white = count.get(b"\xff\xff\xff", 0)
assert len(count) >= 20, "only %d colours" % len(count)
assert white < 0.97 * width * height, "blank: %d white pixels" % white
for c in want:
    n = sum(v for k, v in count.items()
            if all(abs(k[j] - c[j]) <= 8 for j in range(3)))
    assert n >= 200, "colour %02x%02x%02x on %d pixels" % (c + (n,))
