"""Turns a stretch of PostgreSQL's log (log_min_duration_statement = 0) into a pgbench script.

Reads the log on stdin and prints, one per line, the statements of the last read-only transaction
that read the orders table (BEGIN … COMMIT on one backend, as the API's reads are), each with its logged parameters written in as
literals. Used by scripts/bench-scale.sh to replay exactly what an endpoint asked of the database.
"""
import re
import sys

LINE = re.compile(r"\[(?P<pid>\d+)\] .*?(?P<kind>LOG|DETAIL):\s+(?P<text>.*)$")
STATEMENT = re.compile(r"duration: [\d.]+ ms\s+(?:statement: |execute [^:]*: )(?P<sql>.*)$")
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def main() -> int:
    per_pid: dict[str, list[list[str]]] = {}  # pid -> [sql, params]
    # Whether a backend's last LOG line was a statement kept (its DETAIL line carries the
    # parameters; the parse and bind lines of the extended protocol have DETAIL lines too).
    kept: dict[str, bool] = {}
    for raw in sys.stdin:
        m = LINE.search(raw.rstrip("\n"))
        if not m:
            continue
        pid, kind, text = m["pid"], m["kind"], m["text"]
        if kind == "LOG":
            s = STATEMENT.match(text)
            kept[pid] = bool(s)
            if s:
                per_pid.setdefault(pid, []).append([s["sql"], ""])
        elif kind == "DETAIL" and text.startswith("parameters:") and kept.get(pid):
            per_pid[pid][-1][1] = text
            kept[pid] = False

    best: list[str] = []
    for statements in per_pid.values():
        block: list[str] | None = None
        for sql, params in statements:
            values = {int(n): v for n, v in PARAM.findall(params)}
            # Highest numbers first, so that $1 does not eat the start of $12.
            for n in sorted(values, reverse=True):
                sql = sql.replace(f"${n}", values[n])
            if sql.upper().startswith("BEGIN"):
                block = [sql]
            elif block is not None:
                block.append(sql)
                if sql.upper().startswith("COMMIT"):
                    # A read of the API (its snapshot), not a background job's write.
                    if any("READ ONLY" in s for s in block) and any(" orders" in s for s in block):
                        best = block
                    block = None
    if not best:
        print("no transaction reading the orders in this log", file=sys.stderr)
        return 1
    for sql in best:
        print(sql.rstrip(";") + ";")
    return 0


if __name__ == "__main__":
    sys.exit(main())
