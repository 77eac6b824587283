"""The run fanned out on Dask (issue 14; architecture.md "Growing past one machine").

`fangpin run --workers N` (a local Dask cluster), `--scheduler tcp://host:8786` (an existing
one) or `[cluster]` in the configuration switch a run to this module; without them the run is
the single-process one of pipelines/flow.py, unchanged. The same `run_once` drives both: this
module only supplies its `ingest` and `stage` callables.

What runs where (every worker job receives paths and plain settings, opens its own DuckDB in
memory and writes Parquet; nothing ships a live connection):

1. **ingest, in parts, on the workers** — department files of a province inbox are not split by
   county (rows carry a county column), so the unit of reading is a run of a folder's files of
   about PART_BYTES, in path order: each job runs the ordinary `flow.ingest_one` on its files
   into a private database and writes every table it filled to
   `OUT/.work/<run_id>.fanout/ingest/<folder>/<part>/<table>.parquet`. Folders unchanged since
   the last completed run are copied in the province process as today.
2. **once, in the province process** — the parts are loaded into the run's working database in
   path order and each folder's folder-wide steps run once (sources.ingest.finish_folder);
   townships are resolved, source checks, feedback and record linkage run as today (they are
   province-wide already). Then the province-wide ID index is built: `roster_persons` (an ID on
   ANY county's active roster belongs to that member's household; an ID on two rosters to the
   smallest household_id, as in the single run) and `deceased_ids` (deaths registered anywhere),
   and every table is cut into one Parquet slice per county bucket (`slices/<table>/b=<k>/`):
   roster tables by their household's county; a department row goes to the county of every
   roster on which its ID stands (any status, so L19–L26 see a member's records wherever filed),
   and a row of an ID on no active roster to the bucket of each of that ID's records (its own
   county; rows without a county form bucket "").
3. **per county, on the workers** — W rules (with accepted record links shadowing the tables,
   and the province index shadowing `roster_persons` / `deceased_ids`) and L rules except L12
   run on the slice; a county keeps the warnings of its own households and of the out-of-roster
   IDs it owns (the smallest bucket the ID's records fall in, so each is written once), and the
   logic errors of its own households. Hits and errors go back as Parquet.
4. **once, in the province process** — hits become `warnings` with history, deadlines and
   counts (checks.screening.write_warnings); logic errors are loaded and L12 (one ID on two
   rosters, the one roster rule across counties) runs over the whole roster; feedback,
   workbooks, the scorecard and publishing happen once, as today.

Which rules are skipped is decided once, on the whole province (a county without enrolment rows
for the year must not skip L24 when the province has them).
"""

from __future__ import annotations

import contextlib
import functools
import resource
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from core.config import load_config
from core.context import RunContext

# Input bytes per ingest job: a folder larger than this is read as several runs of its files on as
# many workers (a province's settlements folder is 1.4 GB; read whole it was one 140 s, 2.5 GB job).
PART_BYTES = 64 * 1024 * 1024
CROSS_COUNTY_L = ("L12",)  # roster rules that compare rosters of different counties: run once
EMPTY_BUCKET = ""  # rows without a county (a department record's own county empty, orphan members)


def _q(path: Path | str) -> str:
    """A path as an SQL literal (COPY ... TO takes no bound parameter); our own paths only."""
    return "'" + str(path).replace("'", "''") + "'"


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _scratch(memory_limit: str | None, threads: int | None, tmp: Path) -> duckdb.DuckDBPyConnection:
    from pipelines import store

    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{memory_limit or store.DEFAULT_MEMORY_LIMIT}'")
    con.execute(f"SET threads = {int(threads or 1)}")
    con.execute(f"SET temp_directory = {_q(tmp.resolve().as_posix())}")
    con.execute(store.schema_sql())
    return con


def part_files(files: list[dict], limit: int | None = None) -> list[list[dict]]:
    """A folder's files (fingerprint entries, path order) cut into runs of about `limit` bytes."""
    limit = limit or PART_BYTES
    parts: list[list[dict]] = [[]]
    size = 0
    for f in files:
        if parts[-1] and size + f["size"] > limit:
            parts.append([])
            size = 0
        parts[-1].append(f)
        size += f["size"]
    return parts


def _job_context(job: dict, con) -> RunContext:
    return RunContext(run_id=job["run_id"], as_of=date.fromisoformat(job["as_of"]), inbox=Path(job["inbox"]),
                      out=Path(job["out"]), config=load_config(job["config"]), con=con)


# ---------------------------------------------------------------- worker jobs (plain data in and out)

def ingest_folder_job(job: dict) -> dict:
    """A part of an inbox folder (a run of its files, part_files) read on a worker into its own
    DuckDB, every filled table written as Parquet; the folder-wide steps are the province's."""
    from pipelines import flow, store

    t0 = time.perf_counter()
    dest = Path(job["dest"])
    shutil.rmtree(dest, ignore_errors=True)  # a retried job starts clean
    dest.mkdir(parents=True)
    con = _scratch(job["memory_limit"], job["threads"], dest / "tmp")
    try:
        ctx = _job_context(job, con)
        folder = job["folder"]
        ctx.notes["folder_tables"] = {folder: job["tables"]}
        ctx.notes["fingerprints"] = {folder: job["files"]}
        how = flow.ingest_one(ctx, folder, None, [f["file"] for f in job["files"]], job["part"] == 0)
        written = {}
        for table in store.warehouse_tables():
            (n,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            if n:
                path = dest / f"{table}.parquet"
                con.execute(f"COPY {table} TO {_q(path)} (FORMAT parquet)")
                written[table] = str(path)
        return {"folder": folder, "part": job["part"], "how": how, "tables": written, "skipped": list(ctx.skipped),
                "unparsed": ctx.notes.get("ingest_unparsed") or {},
                "seconds": round(time.perf_counter() - t0, 3), "peak_rss_mb": _peak_rss_mb()}
    finally:
        con.close()
        shutil.rmtree(dest / "tmp", ignore_errors=True)


def county_job(job: dict) -> dict:
    """W rules (hits) and L rules (errors) of one county bucket on a worker, from its Parquet slice."""
    from checks import linkage
    from checks.registry import get
    from checks.screening import HITS_DDL
    from checks.sql import create_models, rule_sql, set_parameters
    from pipelines import store

    t0 = time.perf_counter()
    dest = Path(job["dest"])
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    con = _scratch(job["memory_limit"], job["threads"], dest / "tmp")
    try:
        slices = Path(job["slices"])
        for table in store.warehouse_tables():
            part = slices / table / f"b={job['bucket']}"
            if part.is_dir():
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet(?, hive_partitioning = false)",
                            [str(part / "*.parquet")])
        ctx = _job_context(job, con)
        ctx.notes["linkage"] = job["linkage"]
        index = Path(job["index"])
        con.execute("CREATE TABLE _own_households AS SELECT household_id FROM read_parquet(?) WHERE b = ?",
                    [str(index / "households.parquet"), job["bucket"]])
        con.execute("CREATE TABLE _own_outsiders AS SELECT id_number FROM read_parquet(?) WHERE b = ?",
                    [str(index / "outsiders.parquet"), job["bucket"]])
        set_parameters(con, ctx.config, ctx.as_of, ctx.run_id)
        create_models(con)
        # W rules: as checks.screening.run_screening, with the province's index for who is whose.
        linked = linkage.shadow_department_tables(con, ctx)
        for name in ("deaths_asof", "active_members"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}")
        for name in ("roster_persons", "deceased_ids"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_parquet(?)",
                        [str(index / f"{name}.parquet")])
        con.execute(HITS_DDL)
        for code in job["w_rules"]:
            con.execute(f"INSERT INTO screening_hits SELECT '{code}', * FROM ({rule_sql(code).strip().rstrip(';')})")
        if linked:
            linkage.annotate_hits(con, ctx, [get(c) for c in job["w_rules"]])
        hits = dest / "hits.parquet"
        con.execute(f"""COPY (SELECT * FROM screening_hits
                             WHERE household_id IN (SELECT household_id FROM _own_households)
                                OR (household_id IS NULL AND id_number IN (SELECT id_number FROM _own_outsiders)))
                        TO {_q(hits)} (FORMAT parquet)""")
        for name in ("deaths_asof", "active_members", "roster_persons", "deceased_ids"):
            con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        linkage.drop_shadows(con, linked)
        # L rules: as checks.logic.run_logic, on the county's own rows (no shadows, local models).
        for name in ("deaths_asof", "active_members"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM main.{name}")
        for code in job["l_rules"]:
            key = "evidence_key" if get(code).suppress_on else "NULL"
            con.execute(
                "INSERT INTO logic_errors (run_id, rule_code, household_id, id_number, name, county, township,"
                " village, detail, evidence_key)"
                f" SELECT ?, ?, household_id, id_number, name, county, township, village, detail, {key}"
                f" FROM ({rule_sql(code).strip().rstrip(';')})", [ctx.run_id, code])
        errors = dest / "logic_errors.parquet"
        own_null = "true" if job["bucket_name"] == EMPTY_BUCKET else "false"
        con.execute(f"""COPY (SELECT * FROM logic_errors
                             WHERE household_id IN (SELECT household_id FROM _own_households)
                                OR (household_id IS NULL AND {own_null}))
                        TO {_q(errors)} (FORMAT parquet)""")
        return {"bucket": job["bucket"], "hits": str(hits), "logic_errors": str(errors),
                "seconds": round(time.perf_counter() - t0, 3), "peak_rss_mb": _peak_rss_mb()}
    finally:
        con.close()
        shutil.rmtree(dest / "tmp", ignore_errors=True)


def workbooks_job(job: dict) -> dict:
    """One county's township workbooks written on a worker, from its findings as Parquet and the
    run's plain values (reports.workbooks.plan_workbooks made them in the province process)."""
    from reports.workbooks import Book, CountyBooks, write_county_workbooks

    t0 = time.perf_counter()
    book = Book(load_config(job["config"]), date.fromisoformat(job["as_of"]), job["skipped"], job["drops"])
    plan = CountyBooks(job["county"], pl.read_parquet(job["warnings"]), pl.read_parquet(job["errors"]),
                       dict(job["measures"]), job["freshness"])
    written, unrouted = write_county_workbooks(book, plan, Path(job["reports_dir"]))
    return {"county": job["county"], "written": [str(p) for p in written], "unrouted": [str(p) for p in unrouted],
            "seconds": round(time.perf_counter() - t0, 3), "peak_rss_mb": _peak_rss_mb()}


# ---------------------------------------------------------------- the same jobs as Prefect tasks

JOB_RETRIES = 2  # a job whose worker died or that raised runs again, twice, before the run fails


@functools.cache
def prefect_tasks() -> dict:
    """The jobs as Prefect tasks, made on first use: a run without Prefect never imports it."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    return {fn.__name__: task(fn, name=fn.__name__.removesuffix("_job").replace("_", "-"),
                              retries=JOB_RETRIES, retry_delay_seconds=2, cache_policy=NO_CACHE)
            for fn in (ingest_folder_job, county_job, workbooks_job)}



def prefect_is_tracking() -> bool:
    """True inside a Prefect flow run (`fangpin run`, the scheduled deployment); False for run_once alone."""
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


# ---------------------------------------------------------------- the province side

class FanOut:
    """`ingest` and `stage` for flow.run_once, executing the county work on a Dask client."""

    def __init__(self, client, config_path, fallback_ingest, fallback_stage, runner=None):
        self.client = client  # plain path: a distributed.Client (None when `runner` is given)
        self.runner = runner  # Prefect path: a started prefect_dask.DaskTaskRunner
        self.config_path = str(Path(config_path).resolve()) if config_path else None
        self.fallback_ingest = fallback_ingest
        self.fallback_stage = fallback_stage

    def _jobs_base(self, ctx: RunContext) -> dict:
        wh = ctx.config.raw.get("warehouse", {})
        return {"run_id": ctx.run_id, "as_of": ctx.as_of.isoformat(), "inbox": str(Path(ctx.inbox).resolve()),
                "out": str(Path(ctx.out).resolve()), "config": self.config_path,
                "memory_limit": wh.get("memory_limit"), "threads": wh.get("threads") or 1}

    def _work(self, ctx: RunContext) -> Path:
        return (Path(ctx.out) / ".work" / f"{ctx.run_id}.fanout").resolve()

    def _run(self, fn, jobs: list[dict], names: list[str]) -> list[dict]:
        """Every job on the cluster; their results in job order, once all of them finished.

        Tracked by Prefect (a flow run): each job is a Prefect task run named after its folder
        or county (`ingest-housing-0`, `county-安宁县`), submitted through prefect_dask's
        DaskTaskRunner, and retried by Prefect (JOB_RETRIES). Not tracked: plain Dask futures,
        retried by Dask. Either way the run goes on only when every job finished, so nothing is
        published from a partial set of counties; a job that failed after its retries fails
        the run (the first error is raised after the others ended, so no job still writes into
        the run's working folder while the run records its failure).
        """
        if self.runner is None:
            futures = self.client.map(fn, jobs, pure=False, retries=JOB_RETRIES)
            return self.client.gather(futures)
        prefect_task = prefect_tasks()[fn.__name__]
        futures = [self.runner.submit(prefect_task.with_options(task_run_name=name), parameters={"job": job})
                   for job, name in zip(jobs, names, strict=True)]
        results, errors = [], []
        for f in futures:
            try:
                results.append(f.result())
            except Exception as exc:  # noqa: PERF203 - every future waited for, the first error raised
                errors.append(exc)
        if errors:
            raise errors[0]
        return results

    def ingest(self, ctx: RunContext, plan: dict[str, str]) -> None:
        from pipelines import flow
        from sources import ingest

        for folder, prev in plan.items():  # unchanged folders: copied from the last run, here
            flow.ingest_one(ctx, folder, prev)
        base = self._jobs_base(ctx)
        jobs = []
        for folder in flow.DEPARTMENT_FOLDERS:
            files = ctx.notes["fingerprints"].get(folder, [])
            if folder in plan:
                continue
            if not files:  # missing, empty or a link: the province process records why
                flow.ingest_one(ctx, folder, None)
                continue
            jobs += [{**base, "folder": folder, "part": k, "tables": ctx.notes["folder_tables"].get(folder, []),
                      "files": part, "dest": str(self._work(ctx) / "ingest" / folder / str(k))}
                     for k, part in enumerate(part_files(files))]
        con = ctx.cursor()
        peaks = ctx.notes.setdefault("fanout_peak_rss_mb", {})
        t0 = time.perf_counter()
        done = self._run(ingest_folder_job, jobs, [f"ingest-{j['folder']}-{j['part']}" for j in jobs])
        ctx.stage_seconds["fanout_ingest_jobs"] = round(time.perf_counter() - t0, 3)  # the bench's projection
        by_folder: dict[str, list[dict]] = {}
        for got in done:  # job order: a folder's parts in path order, as the single run reads them
            by_folder.setdefault(got["folder"], []).append(got)
        for folder, parts in by_folder.items():
            t1 = time.perf_counter()
            touched = set()
            for got in parts:
                for table, path in got["tables"].items():
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet(?)", [path])
                    touched.add(table)
                for entry in got["skipped"]:
                    ctx.skip(entry["kind"], entry["name"], entry["reason"])
                unparsed = ctx.notes.setdefault("ingest_unparsed", {})
                for table, cols in got["unparsed"].items():
                    for col, n in cols.items():
                        unparsed.setdefault(table, {})[col] = unparsed.get(table, {}).get(col, 0) + n
                name = f"ingest:{folder}" + (f"#{got['part']}" if len(parts) > 1 else "")
                ctx.stage_seconds[name] = got["seconds"]
                peaks[name] = got["peak_rss_mb"]
            ingest.finish_folder(ctx, con, touched & set(ctx.notes["folder_tables"].get(folder, [])))
            ctx.stage_seconds[f"ingest_finish:{folder}"] = round(time.perf_counter() - t1, 3)
            flow._emit("folder", folder=folder, how=f"{parts[0]['how']} (Dask, {len(parts)} 个作业)",
                       seconds=sum(g["seconds"] for g in parts))

    def stage(self, ctx: RunContext, name: str):
        if name not in ("screening", "logic", "reports"):
            return self.fallback_stage(ctx, name)
        from pipelines import flow

        flow._emit("stage", stage=name)
        ctx.notes["stage"] = name
        t0 = time.perf_counter()
        try:
            if name == "reports":  # the scorecard and Data Docs once, as in the single run
                return flow.reports(ctx, self._workbooks)
            return self._screening(ctx) if name == "screening" else self._logic(ctx)
        finally:
            ctx.stage_seconds[name] = round(ctx.stage_seconds.get(name, 0) + time.perf_counter() - t0, 3)
            flow._emit("stage_done", stage=name, seconds=ctx.stage_seconds[name])

    # -- reports: the township workbooks county by county on the workers; scorecard and Data Docs once
    def _workbooks(self, ctx: RunContext) -> list[Path]:
        from reports import workbooks

        book, plans = workbooks.plan_workbooks(ctx)
        work = self._work(ctx) / "workbooks"
        shutil.rmtree(work, ignore_errors=True)
        base = self._jobs_base(ctx)
        jobs = []
        for i, plan in enumerate(plans):
            (work / str(i)).mkdir(parents=True)
            plan.warnings.write_parquet(work / str(i) / "warnings.parquet")
            plan.errors.write_parquet(work / str(i) / "logic_errors.parquet")
            jobs.append({**base, "county": plan.county, "warnings": str(work / str(i) / "warnings.parquet"),
                         "errors": str(work / str(i) / "logic_errors.parquet"),
                         "measures": list(plan.measures.items()), "freshness": plan.freshness,
                         "skipped": book.skipped, "drops": book.drops,
                         "reports_dir": str(Path(ctx.reports_dir).resolve())})
        t0 = time.perf_counter()
        results = self._run(workbooks_job, jobs, [f"workbooks-{p.county or '无县名'}" for p in plans])
        ctx.stage_seconds["fanout_workbook_jobs"] = round(time.perf_counter() - t0, 3)
        peaks = ctx.notes.setdefault("fanout_peak_rss_mb", {})
        for got in results:
            ctx.stage_seconds[f"workbooks:{got['county'] or '-'}"] = got["seconds"]
            peaks[f"workbooks:{got['county'] or '-'}"] = got["peak_rss_mb"]
        return workbooks.finish_workbooks(ctx, [Path(p) for r in results for p in r["written"]],
                                          [Path(p) for r in results for p in r["unrouted"]])

    # -- screening: cut slices, run every county, write warnings once
    def _screening(self, ctx: RunContext) -> dict[str, int]:
        from checks import linkage, screening
        from checks.registry import family, skip_reason
        from checks.sql import create_models, set_parameters

        con = ctx.cursor()
        set_parameters(con, ctx.config, ctx.as_of, ctx.run_id)
        create_models(con)
        w_rules = family("W")
        w_skipped = {}
        for rule in w_rules:
            reason = screening._skip_reason(ctx, con, rule)
            if reason:
                w_skipped[rule.code] = reason
                ctx.skip("rule", rule.code, reason)
        l_rules = [r for r in family("L") if r.code not in CROSS_COUNTY_L]
        ctx.notes["fanout_l_skipped"] = l_skipped = {r.code: skip_reason(ctx, con, r) for r in family("L")}
        work = self._work(ctx)
        index, slices = work / "index", work / "slices"
        shutil.rmtree(index, ignore_errors=True)
        shutil.rmtree(slices, ignore_errors=True)
        index.mkdir(parents=True)
        slices.mkdir(parents=True)
        t0 = time.perf_counter()
        # the province-wide ID index, computed as screening computes it (accepted links included)
        linked = linkage.shadow_department_tables(con, ctx)
        for name in ("roster_persons", "deceased_ids"):
            con.execute(f"COPY (SELECT * FROM {name}) TO {_q(index / f'{name}.parquet')} (FORMAT parquet)")
        linkage.drop_shadows(con, linked)
        buckets = _cut_slices(con, index, slices)
        ctx.stage_seconds["fanout_slices"] = round(time.perf_counter() - t0, 3)
        base = self._jobs_base(ctx)
        linkage_note = {"ran": bool((ctx.notes.get("linkage") or {}).get("ran"))}
        jobs = [{**base, "bucket": b, "bucket_name": name, "index": str(index), "slices": str(slices),
                 "linkage": linkage_note, "dest": str(work / "county" / str(b)),
                 "w_rules": [r.code for r in w_rules if r.code not in w_skipped],
                 "l_rules": [r.code for r in l_rules if not l_skipped.get(r.code)]}
                for b, name in buckets]
        t0 = time.perf_counter()
        results = self._run(county_job, jobs, [f"county-{name or '无县名'}" for _, name in buckets])
        ctx.stage_seconds["fanout_county_jobs"] = round(time.perf_counter() - t0, 3)
        ctx.notes["fanout_counties"] = results
        peaks = ctx.notes.setdefault("fanout_peak_rss_mb", {})
        for got, (_, name) in zip(results, buckets, strict=True):
            ctx.stage_seconds[f"county:{name or '-'}"] = got["seconds"]
            peaks[f"county:{name or '-'}"] = got["peak_rss_mb"]
        con.execute(screening.HITS_DDL)
        con.execute("DELETE FROM warnings WHERE run_id = ?", [ctx.run_id])
        con.execute("INSERT INTO screening_hits BY NAME SELECT * FROM read_parquet(?)",
                    [[got["hits"] for got in results]])
        ran = [r.code for r in w_rules if r.code not in w_skipped]
        counts = screening.write_warnings(ctx, con, w_rules, ran, w_skipped, {})
        con.execute("DROP TABLE IF EXISTS screening_hits")
        return counts

    # -- logic: the counties' errors, and the cross-county rule once
    def _logic(self, ctx: RunContext) -> dict[str, int]:
        from checks.logic import _materialise
        from checks.registry import family, get, partly_checked
        from checks.sql import create_models, rule_sql, set_parameters

        con = ctx.cursor()
        con.execute("DELETE FROM logic_errors WHERE run_id = ?", [ctx.run_id])
        results = ctx.notes["fanout_counties"]
        if results:
            con.execute("INSERT INTO logic_errors BY NAME SELECT * FROM read_parquet(?)",
                        [[got["logic_errors"] for got in results]])
        skipped = ctx.notes["fanout_l_skipped"]
        set_parameters(con, ctx.config, ctx.as_of, ctx.run_id)
        create_models(con)
        _materialise(con)
        for rule in family("L"):
            if skipped.get(rule.code):
                ctx.skip("rule", rule.code, skipped[rule.code])
                continue
            partial = partly_checked(ctx, rule)
            if partial:
                ctx.skip("partial", rule.code, partial)
            if rule.code in CROSS_COUNTY_L:
                key = "evidence_key" if get(rule.code).suppress_on else "NULL"
                con.execute(
                    "INSERT INTO logic_errors (run_id, rule_code, household_id, id_number, name, county,"
                    " township, village, detail, evidence_key)"
                    f" SELECT ?, ?, household_id, id_number, name, county, township, village, detail, {key}"
                    f" FROM ({rule_sql(rule.code).strip().rstrip(';')})", [ctx.run_id, rule.code])
        counts = {code: n for code, n in con.execute(
            "SELECT rule_code, count(*) FROM logic_errors WHERE run_id = ? GROUP BY ALL ORDER BY ALL",
            [ctx.run_id]).fetchall()}
        counts = {r.code: counts.get(r.code, 0) for r in family("L") if not skipped.get(r.code)}
        ctx.notes["logic_errors"] = counts
        return counts


def _cut_slices(con, index: Path, slices: Path) -> list[tuple[int, str]]:
    """One Parquet slice per county bucket of every table the rules read; returns [(bucket, county)]."""
    from checks.linkage import person_columns
    from sources.spec import load_specs

    specs = {s.table: s for s in load_specs()}
    dept = {}
    for table, spec in specs.items():
        if spec.level != "department":
            continue
        ident = person_columns(spec)[0]
        cols = {c[0] for c in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?"
            " AND database_name = current_database()", [table]).fetchall()}
        if ident in cols:
            dept[table] = (ident, "county" in cols)
    # households' buckets: their county; members whose household is not in the roster: bucket ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fan_hh AS
        SELECT household_id, coalesce(county, '{EMPTY_BUCKET}') AS county FROM households
        UNION
        SELECT DISTINCT household_id, '{EMPTY_BUCKET}' FROM members
        WHERE household_id IS NULL OR household_id NOT IN (SELECT household_id FROM households)""")
    # out-of-roster IDs: on no active roster; each record's own county
    outs = " UNION ".join(
        f"SELECT DISTINCT {ident} AS id_number, "
        f"{'coalesce(county, ' + repr(EMPTY_BUCKET) + ')' if has_county else repr(EMPTY_BUCKET)} AS county"
        f" FROM {table} WHERE {ident} IS NOT NULL"
        f" AND {ident} NOT IN (SELECT id_number FROM read_parquet({_q(index / 'roster_persons.parquet')}))"
        for table, (ident, has_county) in dept.items()) or "SELECT NULL::VARCHAR AS id_number, NULL::VARCHAR AS county WHERE false"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _fan_out AS {outs}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fan_b AS
        SELECT county, (row_number() OVER (ORDER BY county) - 1)::INTEGER AS b
        FROM (SELECT county FROM _fan_hh UNION SELECT county FROM _fan_out UNION SELECT '{EMPTY_BUCKET}')""")
    # the ID index: ID -> every bucket that must see its department records
    con.execute("""CREATE OR REPLACE TEMP TABLE _fan_route AS
        SELECT DISTINCT m.id_number, b.b FROM members AS m
        JOIN _fan_hh AS h ON h.household_id IS NOT DISTINCT FROM m.household_id JOIN _fan_b AS b ON b.county = h.county
        WHERE m.id_number IS NOT NULL
        UNION
        SELECT o.id_number, b.b FROM _fan_out AS o JOIN _fan_b AS b ON b.county = o.county""")
    con.execute(f"""COPY (SELECT h.household_id, b.b FROM _fan_hh AS h JOIN _fan_b AS b USING (county))
                    TO {_q(index / 'households.parquet')} (FORMAT parquet)""")
    # each out-of-roster ID is owned (its warnings kept) by its smallest bucket
    con.execute(f"""COPY (SELECT o.id_number, min(b.b) AS b FROM _fan_out AS o JOIN _fan_b AS b USING (county)
                          GROUP BY o.id_number) TO {_q(index / 'outsiders.parquet')} (FORMAT parquet)""")

    def cut(table: str, select: str) -> None:  # no rows: no b=<k> folder, which the county job reads as none
        con.execute(f"COPY ({select}) TO {_q(slices / table)} (FORMAT parquet, PARTITION_BY (b))")

    hh = "(SELECT h.household_id, b.b FROM _fan_hh AS h JOIN _fan_b AS b USING (county))"
    for table, spec in specs.items():
        if spec.level == "roster":
            cut(table, f"SELECT t.*, x.b FROM {table} AS t JOIN {hh} AS x"
                       " ON x.household_id IS NOT DISTINCT FROM t.household_id")
        elif table in dept:
            ident = dept[table][0]
            cut(table, f"SELECT t.*, r.b FROM {table} AS t JOIN _fan_route AS r ON r.id_number = t.{ident}")
    # record links (and the rejected rows they re-read) go to the linked household's county
    cut("record_links", f"SELECT l.*, x.b FROM record_links AS l JOIN {hh} AS x USING (household_id)")
    cut("rejects", f"""SELECT DISTINCT r.*, x.b FROM rejects AS r
        JOIN record_links AS l ON r.run_id = l.run_id AND r.source_table = l.source_table AND r.file = l.file
         AND r.sheet IS NOT DISTINCT FROM l.sheet AND r.row_number = l.row_number
        JOIN {hh} AS x ON x.household_id = l.household_id""")
    return [tuple(r) for r in con.execute("SELECT b, county FROM _fan_b ORDER BY b").fetchall()]


@contextlib.contextmanager
def executor(config_path, workers: int | None, scheduler: str | None, fallback_ingest, fallback_stage):
    """A FanOut on a Dask client when a cluster is asked for (arguments win over [cluster]), else None.

    `workers`: a local cluster of that many single-threaded processes; `scheduler`: connect
    to an existing cluster, whose workers must see the same inbox and OUT paths. Inside a
    Prefect flow run the cluster is reached through prefect_dask.DaskTaskRunner (every folder
    and county a Prefect task run, retried by Prefect); outside one, through a plain
    distributed.Client (retried by Dask) — the same jobs, the same results.
    """
    cluster_cfg = load_config(config_path).cluster if (workers is None and scheduler is None) else {}
    workers = workers if workers is not None else cluster_cfg.get("workers")
    scheduler = scheduler or cluster_cfg.get("scheduler")
    if not workers and not scheduler:
        yield None
        return
    from distributed import Client, LocalCluster

    if prefect_is_tracking():
        # A Prefect flow run: the jobs become Prefect task runs on Prefect's Dask task runner,
        # so the Prefect UI shows every folder and county, and Prefect retries them.
        from prefect_dask import DaskTaskRunner

        runner = (DaskTaskRunner(address=scheduler) if scheduler else
                  DaskTaskRunner(cluster_class=LocalCluster,
                                 cluster_kwargs={"n_workers": int(workers), "threads_per_worker": 1,
                                                 "processes": True, "dashboard_address": None}))
        with runner:
            yield FanOut(None, config_path, fallback_ingest, fallback_stage, runner=runner)
        return
    if scheduler:
        with Client(scheduler) as client:
            yield FanOut(client, config_path, fallback_ingest, fallback_stage)
        return
    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield FanOut(client, config_path, fallback_ingest, fallback_stage)
