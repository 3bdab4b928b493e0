"""Webhook receiver benchmark: durable acknowledgements per second and their latency at N
concurrent senders. The receiver (the API app, one uvicorn process, Standard Webhooks scheme)
stores every event in the inbox and commits before answering 200.

Two senders:
- ``--sender python`` (default): separate Python processes (httpx, keep-alive) sign and send.
- ``--sender wrk``: the events are signed beforehand (distinct webhook-id each, the connection's
  secret, timestamps taken right before the run, well within the tolerance) into a file, and
  ``wrk`` (C, ``-t 2``, one connection per concurrent sender) replays them through a Lua script
  that loads them in ``init`` and hands out the next one per ``request()``; its ``response()`` hook
  counts the 200s. Much cheaper per request than the Python senders, so the receiver gets more of
  a small host.

    .venv/bin/python -m bench.webhooks_receiver                  # SQLite in a temp dir
    .venv/bin/python -m bench.webhooks_receiver --url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.webhooks_receiver --sender wrk --http httptools \\
        --url sqlite --url postgresql+psycopg://postgres@127.0.0.1:5432/test

``--url`` may be given more than once (``sqlite`` = SQLite in a temp dir): the figures are printed
side by side with the target. Prints acks/s, p50/p90/p99/max latency, and checks that the inbox
holds every acknowledged event exactly once. PostgreSQL runs in a fresh schema that is dropped at
the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
import sqlalchemy as sa

from include.store import Store
from include.webhooks.schemes import standard_sign

CID = "bench"
SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdef!!").decode()
BODY = (
    '{"type":"record.updated","entity":"work-orders","id":"%d","data":{"title":"Inspect pump %d",'
    '"status":"OPEN","priority":"HIGH","updatedAt":"2026-01-01T00:00:00Z","site":"S%d"}}'
)


def serve(url: str, port: int, http: str = "h11") -> None:
    import uvicorn

    from include.api.app import create_app
    from include.api.server import server_config, settle_heap
    from include.api.webhooks import WebhookSource

    sources = {CID: WebhookSource(CID, "active", "standard", (SECRET,))}
    app = create_app(Store(url), webhook_sources=sources.get)
    config = server_config(app, host="127.0.0.1", port=port, log_level="warning")
    if http == "httptools":  # the API's server uses h11 for its long-URL handling (server.py)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                http="httptools")  # fmt: skip
    settle_heap()  # as the API's servers do once the app is built (MILLWRIGHT_API_GC_FREEZE)
    uvicorn.Server(config).run()


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sender(port: int, ids: list[int], concurrency: int, out: mp.Queue) -> None:
    async def run() -> list[float]:
        lat: list[float] = []
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            queue = list(reversed(ids))

            async def worker() -> None:
                while queue:
                    i = queue.pop()
                    body = (BODY % (i, i, i % 50)).encode()
                    ts = int(time.time())
                    msg = f"msg_{i}"
                    headers = {"webhook-id": msg, "webhook-timestamp": str(ts),
                               "webhook-signature": standard_sign(SECRET, msg, ts, body),
                               "content-type": "application/json"}  # fmt: skip
                    t0 = time.perf_counter()
                    r = await client.post(f"http://127.0.0.1:{port}/webhooks/{CID}",
                                          content=body, headers=headers)  # fmt: skip
                    if r.status_code != 200:
                        raise RuntimeError(f"event {i}: {r.status_code} {r.text[:200]}")
                    lat.append(time.perf_counter() - t0)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return lat

    out.put(asyncio.run(run()))


WRK_LUA = r"""
-- requests signed beforehand, one a line: webhook-id \t timestamp \t signature \t body
local path, file = "%(path)s", "%(file)s"
-- globals: done() reads them through thread:get
threads, reqs, nreq, sent, acks, others, padding = {}, {}, 0, 0, 0, 0, 0
local counter = 0
local ffi = require("ffi")  -- wrk runs LuaJIT: a monotonic clock in microseconds
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } mw_ts; int clock_gettime(int, mw_ts *); ]]
local tsbuf = ffi.new("mw_ts")
local function now_us()
  ffi.C.clock_gettime(1, tsbuf)
  return tonumber(tsbuf.tv_sec) * 1000000 + math.floor(tonumber(tsbuf.tv_nsec) / 1000)
end
t_first, t_last = 0, 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[1])
  local i = 0
  for line in io.lines(file) do
    if i %% nthreads == tid then
      local id, ts, sig, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
      nreq = nreq + 1
      reqs[nreq] = wrk.format("POST", path, {["webhook-id"] = id, ["webhook-timestamp"] = ts,
        ["webhook-signature"] = sig, ["content-type"] = "application/json"}, body)
    end
    i = i + 1
  end
  -- once every event is out, idle connections get this (answered 404 without touching the
  -- store) until the last acknowledgement is in; at most one per connection
  pad = wrk.format("GET", "/bench-idle-padding")
end

function request()
  -- wrk 4 calls request() once on the first thread's state before any connection opens (to
  -- count pipelined requests) and sends nothing: give it the padding, not an event
  if tid == 0 and not verified then verified = true; return pad end
  sent = sent + 1
  if sent == 1 then t_first = now_us() end
  if sent <= nreq then return reqs[sent] end
  return pad
end

function response(status, headers, body)
  if status == 200 then acks = acks + 1
  elseif status == 404 then  -- the padding (the bench's connection exists: events never 404)
    padding = padding + 1
  else
    others = others + 1
    if others <= 5 then io.stderr:write("non-200: " .. status .. " " .. body:sub(1, 200) .. "\n") end
  end
  if acks + others >= nreq and t_last == 0 then
    -- this thread's events are all answered: note the time, tell the bench (which interrupts
    -- wrk's fixed -d wait once every thread is done) and stop
    t_last = now_us()
    io.open(file .. ".done." .. tid, "w"):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local a, o, p, n, first, last = 0, 0, 0, 0, nil, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acks"); o = o + t:get("others"); p = p + t:get("padding"); n = n + t:get("nreq")
    first = math.min(first or t:get("t_first"), t:get("t_first"))
    last = math.max(last, t:get("t_last"))
  end
  io.write(string.format("MWRESULT acks=%%d others=%%d padding=%%d planned=%%d duration_us=%%d "
    .. "p50_us=%%d p90_us=%%d p99_us=%%d max_us=%%d mean_us=%%d\n", a, o, p, n, last > 0 and last - first or summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def _write_events(path: str, prefix: str, n: int) -> None:
    """N distinct events, each with its own webhook-id, signed with the connection's secret now."""
    ts = int(time.time())
    with open(path, "w") as fh:
        for i in range(n):
            body = (BODY % (i, i, i % 50)).encode()
            msg = f"{prefix}_{i}"
            fh.write(f"{msg}\t{ts}\t{standard_sign(SECRET, msg, ts, body)}\t{body.decode()}\n")


def _run_wrk(port: int, prefix: str, n: int, concurrency: int, threads: int, tmp: str) -> dict:
    events = os.path.join(tmp, f"{prefix}.tsv")
    script = os.path.join(tmp, f"{prefix}.lua")
    _write_events(events, prefix, n)
    with open(script, "w") as fh:
        fh.write(WRK_LUA % {"path": f"/webhooks/{CID}", "file": events})
    # -d bounds the run; the script stops each thread once its events are all answered
    cmd = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{60 + n // 100}s",
           "--timeout", "30s", "--latency", "-s", script, f"http://127.0.0.1:{port}",
           "--", str(threads)]  # fmt: skip
    t0 = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        # wrk sleeps its whole -d; once every thread has its answers, SIGINT ends the sleep and
        # wrk prints its summary (done()) as usual
        while p.poll() is None:
            if all(os.path.exists(f"{events}.done.{t}") for t in range(threads)):
                p.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
        stdout, stderr = p.communicate(timeout=120)
    out = subprocess.CompletedProcess(cmd, p.returncode, stdout, stderr)
    wall = time.perf_counter() - t0
    if out.returncode != 0 or "MWRESULT" not in out.stdout:
        raise RuntimeError(
            f"wrk failed ({out.returncode}): {out.stdout[-2000:]} {out.stderr[-2000:]}"
        )
    line = next(x for x in out.stdout.splitlines() if x.startswith("MWRESULT"))
    r = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    print(
        "\n".join(x for x in out.stdout.splitlines() if "error" in x.lower() or "Non-2xx" in x),
        file=sys.stderr,
    )
    if out.stderr.strip():
        print(out.stderr.strip(), file=sys.stderr)
    r["wall_s"] = wall
    return r


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_schema(url: str) -> tuple[str, str]:
    schema = f"bench_wh_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}
                                              ).render_as_string(hide_password=False), schema  # fmt: skip


def bench(url: str, events: int, concurrency: int, processes: int, http: str = "h11",
          sender: str = "python") -> dict:  # fmt: skip
    store = Store(url)
    store.migrate()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.webhooks_receiver", "--serve", url,
                             "--port", str(port), "--http", http])  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("receiver did not start") from None
                time.sleep(0.2)
        if sender == "wrk":
            tmp = tempfile.mkdtemp(prefix="mw-wh-wrk-")
            warm = _run_wrk(port, "warm", 200, concurrency, processes, tmp)  # not counted
            cpu0 = _cpu(proc.pid)
            w = _run_wrk(port, "msg", events, concurrency, processes, tmp)
            cpu = _cpu(proc.pid) - cpu0
        else:
            # warm-up (connection pools, first transaction), not counted
            _run_senders(port, list(range(10_000_000, 10_000_000 + 200)), concurrency, processes)
            cpu0, t0 = _cpu(proc.pid), time.perf_counter()
            lat = _run_senders(port, list(range(events)), concurrency, processes)
            wall = time.perf_counter() - t0
            cpu = _cpu(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(10)
    with store.read() as c:
        stored = c.exec_driver_sql("SELECT count(*) FROM webhook_inbox").scalar()
        # the run's events (webhook-id msg_N; the index makes (connection, id) unique)
        run_ids = c.execute(
            sa.text(
                "SELECT count(DISTINCT event_id) FROM webhook_inbox WHERE event_id LIKE :p ESCAPE '!'"
            ),
            {"p": "msg!_%"},
        ).scalar()
    store.close()
    if sender == "wrk":
        acked = w["acks"]
        stored -= warm["acks"]
        return {
            "events": events, "concurrency": concurrency, "sender": "wrk",
            "acks": acked, "non_200": w["others"],
            "acks_per_s": round(acked / (w["duration_us"] / 1e6)),
            "p50_ms": round(w["p50_us"] / 1000, 1), "p90_ms": round(w["p90_us"] / 1000, 1),
            "p99_ms": round(w["p99_us"] / 1000, 1), "max_ms": round(w["max_us"] / 1000, 1),
            "mean_ms": round(w["mean_us"] / 1000, 1),
            "receiver_cpu_ms_per_ack": round(cpu * 1000 / max(1, acked), 2),
            "stored": stored,
            "ok": acked == events and w["others"] == 0 and stored == acked and run_ids == acked,
        }  # fmt: skip
    lat.sort()

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

    return {
        "events": events, "concurrency": concurrency, "acks_per_s": round(events / wall),
        "p50_ms": round(q(0.5), 1), "p90_ms": round(q(0.9), 1), "p99_ms": round(q(0.99), 1),
        "max_ms": round(lat[-1] * 1000, 1), "mean_ms": round(statistics.mean(lat) * 1000, 1),
        "receiver_cpu_ms_per_ack": round(cpu * 1000 / events, 2),
        "stored": stored - 200, "ok": stored - 200 == events,
    }  # fmt: skip


def _run_senders(port: int, ids: list[int], concurrency: int, processes: int) -> list[float]:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    per = max(1, concurrency // processes)
    procs = [ctx.Process(target=_sender, args=(port, ids[k::processes], per, out))
             for k in range(processes)]  # fmt: skip
    for p in procs:
        p.start()
    lat: list[float] = []
    for _ in procs:
        lat += out.get()
    for p in procs:
        p.join()
    return lat


TARGET = {"acks_per_s": 1000, "p99_ms": 50.0}  # issue 16, PostgreSQL, 2-core host


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", action="append",
                    help="store URL, repeatable; 'sqlite' or none: SQLite in a temp dir")  # fmt: skip
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--processes", type=int, default=2, help="sender processes (wrk: threads)")
    ap.add_argument("--http", default="h11", choices=["h11", "httptools"])
    ap.add_argument("--sender", default="python", choices=["python", "wrk"])
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.http)
        return
    if args.sender == "wrk" and not shutil.which("wrk"):
        sys.exit("--sender wrk needs the wrk program on PATH (Debian/Ubuntu: apt-get install wrk)")
    rows: list[tuple[str, dict]] = []
    failed = False
    for given in args.url or ["sqlite"]:
        schema = None
        if given.startswith("postgresql"):
            url, schema = _pg_schema(given)
        elif given == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp(prefix='mw-wh-bench-')}/store.db"
        else:
            url = given
        try:
            result = bench(url, args.events, args.concurrency, args.processes, args.http,
                           args.sender)  # fmt: skip
        finally:
            if schema:
                engine = sa.create_engine(given)
                with engine.begin() as c:
                    c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                engine.dispose()
        backend = sa.make_url(url).get_backend_name()
        print(
            f"{backend} ({args.http}, sender {args.sender}, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}): "
            + ", ".join(f"{k}={v}" for k, v in result.items()),
            flush=True,
        )
        rows.append((backend, result))
        failed |= not result["ok"]
    cols = ["acks_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms", "receiver_cpu_ms_per_ack", "ok"]
    print(f"\n{'':<12}" + "".join(f"{c:>24}" for c in cols))
    for backend, r in rows:
        print(f"{backend:<12}" + "".join(f"{r[c]!s:>24}" for c in cols))
    tgt = {"acks_per_s": f">= {TARGET['acks_per_s']}", "p99_ms": f"< {TARGET['p99_ms']:g}"}
    print(f"{'target':<12}" + "".join(f"{tgt.get(c, ''):>24}" for c in cols))
    for backend, r in rows:
        met = r["acks_per_s"] >= TARGET["acks_per_s"] and r["p99_ms"] < TARGET["p99_ms"]
        print(f"{backend}: target {'MET' if met else 'NOT met'} in this run"
              + (" (the target is stated for PostgreSQL)" if backend != "postgresql" else ""))  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if failed:
        sys.exit("the inbox does not hold every acknowledged event exactly once")


if __name__ == "__main__":
    main()
