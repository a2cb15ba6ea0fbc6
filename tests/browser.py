#!/usr/bin/env python3
# browser.py - a real headless Chromium, driven over the DevTools protocol
# (Python's standard library only: the WebSocket client is below), loads
# the dashboard of `cutover serve` and watches steps change state in the
# DOM without a reload.
#
#   browser.py check URL STEP BEFORE AFTER CMD...
#       STEP shows BEFORE; CMD runs; STEP shows AFTER within 10 s, in the
#       same document (no reload); no CSP violation, no console error.
#       Prints "latency_ms N" (from CMD's start to the DOM change).
#   browser.py bench URL CMD... -- STEP...
#       for each STEP: run CMD STEP, wait for STEP to show succeeded;
#       prints each latency and p50/p99/max (ms), fails if p99 >= 1000.
#
# Exit 0 when everything held, 1 otherwise (a line per failure on stderr).
import base64, json, os, shutil, socket, struct, subprocess, sys, tempfile
import time, urllib.request

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class WebSocket:
    """A minimal RFC 6455 client: text frames, masked, no extensions."""

    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)
        ).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise IOError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise IOError("websocket handshake: %r" % head[:80])
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        data = text.encode()
        n = len(data)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise IOError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 0x9:  # ping
                continue
            if op == 0x8:
                raise IOError("websocket closed by the browser")
            msg += payload
            if b0 & 0x80:
                return msg.decode()


class Browser:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cutover-chromium.")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             "--user-data-dir=" + self.dir, "--window-size=1280,900",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.dir, "DevToolsActivePort")
        for _ in range(600):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                break
            time.sleep(0.05)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(
            "http://127.0.0.1:%s/json/list" % port, timeout=30))
        page = [t for t in targets if t["type"] == "page"][0]
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events = []
        self.problems = []

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method,
                                 "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.note(m)

    def note(self, m):
        """Keep events; console errors and CSP reports are problems."""
        self.events.append(m)
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.consoleAPICalled" and p.get("type") in (
                "error", "warning", "assert"):
            self.problems.append("console %s: %s" % (p["type"], json.dumps(
                [a.get("value", a.get("description")) for a in p["args"]])))
        elif meth == "Runtime.exceptionThrown":
            self.problems.append("exception: %s" % json.dumps(
                p["exceptionDetails"].get("exception", {}).get(
                    "description", p["exceptionDetails"].get("text"))))
        elif meth == "Log.entryAdded" and p["entry"]["level"] in (
                "error", "warning"):
            e = p["entry"]
            self.problems.append("log %s %s: %s" % (
                e["level"], e.get("source"), e["text"]))

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def open(self, url):
        self.call("Runtime.enable")
        self.call("Log.enable")
        self.call("Page.enable")
        # CSP violations as the page sees them (this script is injected by
        # the browser itself, which CSP does not govern).
        self.call("Page.addScriptToEvaluateOnNewDocument", source=(
            "window.__csp=[];document.addEventListener("
            "'securitypolicyviolation',function(e){window.__csp.push("
            "e.violatedDirective+' '+e.blockedURI)})"))
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && "
                  "document.getElementById('dash') !== null", 20)

    def wait(self, expr, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if self.eval(expr):
                return True
            time.sleep(0.02)
        return False

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# Record when each step first shows a state, by the page's own clock.
WATCH = """(function(){window.__seen={};window.__same=1;
var main=document.getElementById('dash');
function look(){var l=main.querySelectorAll('[data-step][data-state]'),i,k;
for(i=0;i<l.length;i++){k=l[i].getAttribute('data-step')+' '+
l[i].getAttribute('data-state');if(!(k in window.__seen))
window.__seen[k]=Date.now();}}
look();new MutationObserver(look).observe(main,{childList:true,subtree:true,
attributes:true});return true})()"""


def state_of(b, step):
    return b.eval("(function(){var e=document.querySelector("
                  "'main [data-step=%s][data-state]');return e?"
                  "e.getAttribute('data-state'):null})()" % json.dumps(step))


def change(b, step, after, cmd):
    """Run cmd; the ms from its start until step shows after, or None."""
    key = json.dumps(step + " " + after)
    t0 = time.time() * 1000
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not b.wait("window.__seen[%s] !== undefined" % key, 10):
        return None
    return b.eval("window.__seen[%s]" % key) - t0


def common_checks(b, fails):
    if b.eval("window.__same") != 1:
        fails.append("the page was reloaded (the marker is gone)")
    csp = b.eval("window.__csp")
    if csp:
        fails.append("CSP violations: %s" % csp)
    if b.problems:
        fails.append("console: %s" % "; ".join(b.problems))


def cmd_check(url, step, before, after, cmd):
    fails = []
    b = Browser()
    try:
        b.open(url)
        b.eval(WATCH)
        got = state_of(b, step)
        if got != before:
            fails.append("%s shows %r, wanted %r" % (step, got, before))
        # Let the event stream connect before anything changes.
        if not b.wait("document.body.className.indexOf('offline') < 0", 5):
            fails.append("the event stream did not connect")
        time.sleep(0.3)
        ms = change(b, step, after, cmd)
        if ms is None:
            fails.append("%s did not show %s within 10 s of %s" % (
                step, after, cmd))
        else:
            print("latency_ms %d" % ms)
        if state_of(b, step) != after:
            fails.append("%s shows %r after the change" % (
                step, state_of(b, step)))
        b.call("Runtime.evaluate", expression="1")  # drain events
        common_checks(b, fails)
        print("title %s" % b.eval("document.title"))
        # The detector itself: an image from elsewhere must be refused and
        # reported, or the CSP check above proves nothing.
        b.eval("(function(){var i=document.createElement('img');"
               "i.src='http://127.0.0.2:9/x.png';document.body.appendChild(i);"
               "return 1})()")
        if not b.wait("window.__csp.length > 0", 5):
            fails.append("a forbidden image raised no CSP violation: the "
                         "policy or the detector does not work")
    finally:
        b.close()
    for f in fails:
        print("browser.py: " + f, file=sys.stderr)
    return 1 if fails else 0


def cmd_bench(url, cmd, steps):
    fails, lat = [], []
    b = Browser()
    try:
        b.open(url)
        b.eval(WATCH)
        time.sleep(0.5)
        for s in steps:
            ms = change(b, s, "succeeded", cmd + [s])
            if ms is None:
                fails.append("%s did not show succeeded within 10 s" % s)
                continue
            lat.append(ms)
            print("change %s %d ms" % (s, ms))
            time.sleep(0.05)
        common_checks(b, fails)
    finally:
        b.close()
    if lat:
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(round(q * (len(lat) - 1))))]
        print("changes %d p50_ms %d p99_ms %d max_ms %d" % (
            len(lat), p(0.5), p(0.99), lat[-1]))
        if p(0.99) >= 1000:
            fails.append("p99 %d ms is not under 1 s" % p(0.99))
    for f in fails:
        print("browser.py: " + f, file=sys.stderr)
    return 1 if fails else 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "check":
        return cmd_check(argv[2], argv[3], argv[4], argv[5], argv[6:])
    if len(argv) >= 4 and argv[1] == "bench" and "--" in argv:
        i = argv.index("--")
        return cmd_bench(argv[2], argv[3:i], argv[i + 1:])
    print(__doc__ or "usage: see the top of browser.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
