#!/usr/bin/env python3
"""Side-by-side speed of tandem and a reference llama.cpp build on the same GGUF files.

For every model and thread count this runs `tandem bench --json` and
`llama-bench -o json` back to back (same file, same -p/-n/-r, same threads), so
each tandem/llama.cpp ratio comes from measurements taken minutes apart on the
same machine state. Peak RSS of each process is read from the kernel
(os.wait4's rusage), so both are measured the same way.

On a shared or noisy machine pass --rounds K: the back-to-back pair is then
run K times per (model, threads), alternating the engines, and the table shows
each engine's median over the rounds and the median of the K per-round ratios
(each from two runs taken seconds apart), which a burst of other work in one
round does not move.

Needs only the Python standard library. llama.cpp is never built here: pass
the bin/ folder of an existing build (see bench/README.md).

    python3 bench/compare_llamacpp.py --llama-bin ~/llama.cpp/build/bin \
        --tandem build/tandem -t 1,2 -p 128 -n 64 -r 3 MODELDIR/*.gguf
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_measured(cmd):
    """Runs cmd; returns (stdout text, peak RSS bytes, wall seconds). Raises on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode != 0:
            tail = err.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{tail}")
    # Linux reports ru_maxrss in KiB.
    return stdout, usage.ru_maxrss * 1024, wall


def parse_json_array(text, what):
    """The JSON array printed by a bench tool (ignores any log lines before it)."""
    start = text.find("[")
    if start < 0:
        raise RuntimeError(f"{what}: no JSON array in output:\n{text[-2000:]}")
    return json.loads(text[start:])


def tandem_results(tandem, model, threads, args):
    cmd = [tandem, "bench", "-m", model, "-t", str(threads), "-p", str(args.p), "-n", str(args.n),
           "-r", str(args.r), "--json"]
    out, rss, _ = run_measured(cmd)
    res = {}
    for row in parse_json_array(out, "tandem bench"):
        res[row["test"]] = (row["tokens_per_s"], row["tokens_per_s_sd"])
    return res, rss


def llama_results(llama_bin, model, threads, args):
    cmd = [os.path.join(llama_bin, "llama-bench"), "-m", model, "-t", str(threads), "-p", str(args.p),
           "-n", str(args.n), "-r", str(args.r), "-o", "json"]
    if args.llama_extra:
        cmd += args.llama_extra.split()
    out, rss, _ = run_measured(cmd)
    res = {}
    commit = "?"
    for row in parse_json_array(out, "llama-bench"):
        test = "pp" if row["n_prompt"] > 0 and row["n_gen"] == 0 else "tg"
        res[test] = (row["avg_ts"], row["stddev_ts"])
        commit = row.get("build_commit", commit)
    return res, rss, commit


def summarize(model, threads, rounds):
    """One table row from the rounds of a (model, threads): per engine and test
    the round with the median mean; the median of the per-round ratios; the
    largest peak RSS seen."""
    row = {"model": model, "threads": threads, "tandem": {}, "llama": {}, "ratio": {}, "rounds": rounds,
           "tandem_peak_rss": max(r["tandem_peak_rss"] for r in rounds),
           "llama_peak_rss": max(r["llama_peak_rss"] for r in rounds)}
    for test in ("pp", "tg"):
        for engine in ("tandem", "llama"):
            vals = sorted((r[engine][test] for r in rounds if test in r[engine]), key=lambda v: v[0])
            if vals:
                row[engine][test] = vals[(len(vals) - 1) // 2]
        ratios = [r["tandem"][test][0] / r["llama"][test][0] for r in rounds
                  if test in r["tandem"] and test in r["llama"] and r["llama"][test][0] > 0]
        if ratios:
            row["ratio"][test] = statistics.median(ratios)
    return row


def fmt_ts(v):
    return f"{v[0]:.1f} ± {v[1]:.1f}" if v else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="GGUF files")
    ap.add_argument("--llama-bin", required=True, help="bin/ folder of an existing llama.cpp build (llama-bench)")
    ap.add_argument("--tandem", default="build/tandem", help="tandem binary (default: build/tandem)")
    ap.add_argument("-t", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("-p", type=int, default=128, help="prompt tokens (default 128)")
    ap.add_argument("-n", type=int, default=64, help="generated tokens (default 64)")
    ap.add_argument("-r", type=int, default=3, help="repetitions (default 3)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="back-to-back pairs per (model, threads); medians over them (default 1)")
    ap.add_argument("--llama-extra", default="", help="extra llama-bench arguments, e.g. \"--no-repack 1\"")
    ap.add_argument("--json-out", help="also write all measurements to this JSON file")
    args = ap.parse_args()

    if not os.access(args.tandem, os.X_OK):
        sys.exit(f"error: tandem binary {args.tandem} not found or not executable (build it or pass --tandem)")
    if not os.access(os.path.join(args.llama_bin, "llama-bench"), os.X_OK):
        sys.exit(f"error: no llama-bench in {args.llama_bin} (pass the bin/ folder of a llama.cpp build)")
    threads = [int(t) for t in args.t.split(",")]

    rows = []
    commit = "?"
    for model in args.models:
        if not os.path.isfile(model):
            sys.exit(f"error: model {model} not found")
        for t in threads:
            # tandem first, then llama.cpp, for each (model, threads): the pair
            # shares the machine state as closely as two processes can.
            rounds = []
            for k in range(max(1, args.rounds)):
                tr, trss = tandem_results(args.tandem, model, t, args)
                lr, lrss, commit = llama_results(args.llama_bin, model, t, args)
                rounds.append({"tandem": tr, "llama": lr, "tandem_peak_rss": trss, "llama_peak_rss": lrss})
                print(f"measured {os.path.basename(model)} t={t} round {k + 1}", file=sys.stderr, flush=True)
            rows.append(summarize(os.path.basename(model), t, rounds))
    pp, tg = f"pp{args.p}", f"tg{args.n}"
    how = "t/s mean ± sd" if args.rounds <= 1 else f"t/s: median over {args.rounds} rounds of the mean (± its sd); ratio: median of the rounds' ratios"
    print(f"tandem vs llama.cpp (build {commit}); -p {args.p} -n {args.n} -r {args.r}; {how}")
    print(f"| model | threads | tandem {pp} | llama.cpp {pp} | ratio {pp} | tandem {tg} | llama.cpp {tg} | "
          f"ratio {tg} | tandem peak RSS MiB | llama.cpp peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        def ratio(test):
            v = r["ratio"].get(test)
            return f"{v:.2f}" if v is not None else "-"
        print(f"| {r['model']} | {r['threads']} | {fmt_ts(r['tandem'].get('pp'))} | {fmt_ts(r['llama'].get('pp'))} | "
              f"{ratio('pp')} | {fmt_ts(r['tandem'].get('tg'))} | {fmt_ts(r['llama'].get('tg'))} | {ratio('tg')} | "
              f"{r['tandem_peak_rss'] / 2**20:.0f} | {r['llama_peak_rss'] / 2**20:.0f} |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"commit": commit, "p": args.p, "n": args.n, "r": args.r, "rounds": args.rounds, "rows": rows}, f,
                      indent=1)


if __name__ == "__main__":
    main()
