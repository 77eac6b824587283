"""What a county officer reads in the terminal: progress, the end-of-run summary, `fangpin runs`,
`fangpin serve`'s start-up lines — in plain Chinese, warehouse table and folder names following in
brackets for analysts. Times are shown in the county's time zone (the run records them so).

Department and table names come from the table specs (sources/specs/*.toml: department, title),
rule names from the registry, so a new department needs nothing here.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

STAGE_TITLES = {
    "source_checks": "数据质量检查",
    "feedback": "读取报回的核实表",
    "linkage": "证件号码缺失记录关联",
    "screening": "部门筛查预警",
    "logic": "逻辑错误检查",
    "apply_feedback": "应用核实结果",
    "reuse_results": "输入未变，沿用同一基准日期上次运行的关联、预警和逻辑错误",
    "reports": "生成乡镇核实表和评分表",
    "ingest": "读取数据",
    "townships": "乡镇名称对应",
    "publish": "发布到数据仓库",
    "start": "启动",
}
STATUS_TITLES = {"completed": "完成", "failed": "失败", "running": "运行中"}
FILE_STATUS = {"skipped": "跳过", "unreadable": "无法读取", "loaded": "已读取"}
SKIP_KINDS = {"rule": "规则", "source": "数据", "check": "检查", "routing": "分发", "calendar": "节假日安排",
              "run": "运行", "file": "文件", "sheet": "工作表"}
TIMEZONE_TITLES = {"Asia/Shanghai": "北京时间", "Asia/Urumqi": "乌鲁木齐时间", "Asia/Chongqing": "北京时间",
                   "Asia/Harbin": "北京时间"}


@cache
def _specs():
    from sources.spec import load_specs

    return load_specs()


def table_title(table: str) -> str:
    """医保结算（health_settlements）: the spec's title, the warehouse name in brackets."""
    for s in _specs():
        if s.table == table:
            return f"{s.title}（{table}）"
    if table == "verifications":
        return f"核查反馈（{table}）"
    return table


def folder_title(folder: str) -> str:
    """民政（civil_affairs）: the department(s) of the folder's specs, the folder in brackets."""
    depts = []
    for s in _specs():
        if s.folder == folder and s.department and s.department not in depts:
            depts.append(s.department)
    if folder == "roster":
        return f"{'、'.join(depts)}（监测名单，{folder}/）"
    return f"{'、'.join(depts) or folder}（{folder}/）"


def stage_title(stage: str) -> str:
    return STAGE_TITLES.get(stage, stage)


def rule_title(code: str) -> str:
    from checks.registry import rules

    rule = rules().get(code)
    return f"{code} {rule.name}" if rule else code


def timezone_title(tz: str | None) -> str:
    if not tz:
        return "服务器时间"
    return TIMEZONE_TITLES.get(tz, tz)


def shown_time(value, tz: str | None = None) -> str:
    """A recorded time (the county's wall-clock time, as runs record it) as 2026-11-24 02:00:05."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _n(value, fmt: str = "{:,}") -> str:
    return "" if value is None else fmt.format(value)


# ---------------------------------------------------------------- fangpin run

def progress(console, event: str, d: dict) -> None:
    if event == "start":
        console.print(f"[bold]fangpin 开始运行[/]  运行编号 {d['run_id']}  基准日期 {d['as_of']}  输出目录 {d['out']}")
    elif event == "folder":
        if d.get("reused"):
            how = f"文件未变，沿用运行 {d['reused']} 的数据"
        else:
            how = "已读取" + (f"（第 {d['attempt']} 次）" if d.get("attempt", 1) > 1 else "")
        console.print(f"  [green]✓[/] 读取 {folder_title(d['folder'])}  {how}（{d['seconds']:.1f} 秒）")
    elif event == "retry":
        console.print(f"  [yellow]↻[/] 读取 {folder_title(d['folder'])}：{len(d['files'])} 个文件暂时无法读取"
                      "（文件系统错误），重新读取该目录")
    elif event == "stage_done":
        console.print(f"  [green]✓[/] {stage_title(d['stage'])}（{d['stage']}）（{d['seconds']:.1f} 秒）")
    elif event == "error":
        from rich.console import Console

        console.print(f"  ✗ {d['error']}", style="red", markup=False)
        if d.get("trace"):
            Console(stderr=True, highlight=False).print(d["trace"], markup=False)


def print_summary(console, summary: dict) -> None:
    """The end-of-run summary of outputs.md: per source, per rule, what was skipped, where the reports are."""
    from rich.table import Table

    status = summary.get("status")
    ok = status == "completed"
    colour = "green" if ok else "red"
    tz = summary.get("timezone")
    when = shown_time(summary.get("finished_at"))
    console.print(f"\n[bold {colour}]运行{'完成' if ok else '失败'}[/]：运行编号 {summary.get('run_id')}，"
                  f"基准日期 {summary.get('as_of')}，用时 {summary.get('seconds', 0):.1f} 秒"
                  + (f"，结束于 {when}（{timezone_title(tz)}）" if when else ""))
    if summary.get("error"):
        console.print(f"[red]{summary['error']}[/]（详见上方；数据仓库仍是上一次完整运行的结果）")
    sources = summary.get("sources") or {}
    if sources:
        t = Table(title="各数据表读取情况", title_justify="left")
        for col in ("数据表", "文件/工作表", "读取行数", "入库", "拒收", "重复"):
            t.add_column(col, justify="left" if col == "数据表" else "right")
        for table, c in sources.items():
            t.add_row(table_title(table), str(c["files"]), f"{c['rows_read']:,}", f"{c['rows_loaded']:,}",
                      f"{c['rows_rejected']:,}", f"{c['duplicates']:,}")
        console.print(t)
    for folder, run_id in (summary.get("reused") or {}).items():
        console.print(f"  {folder_title(folder)}：文件与运行 {run_id} 时相同，未重新读取（需要时加 --reread）")
    if summary.get("results_from"):
        console.print(f"  收件目录、配置和基准日期都与运行 {summary['results_from']} 相同：关联、预警和逻辑错误"
                      "沿用该次结果，未重新计算（需要时加 --reread）")
    if summary.get("files_skipped"):
        console.print("[bold]未读取的文件和工作表[/]")
        for f in summary["files_skipped"]:
            where = f["file"] + (f" [{f['sheet']}]" if f.get("sheet") else "")
            console.print(f"  {where}：{FILE_STATUS.get(f['status'], f['status'])} — {f.get('reason') or ''}",
                          markup=False)
    warnings = summary.get("warnings_by_rule") or {}
    logic = summary.get("logic_errors_by_rule") or {}
    if warnings or logic:
        t = Table(title="各规则发现的问题", title_justify="left")
        for col in ("规则", "新增", "持续", "已解除", "合计"):
            t.add_column(col, justify="left" if col == "规则" else "right")
        for code, by_status in warnings.items():
            t.add_row(rule_title(code), *(str(by_status.get(s, 0)) for s in ("新增", "持续", "已解除")),
                      str(sum(by_status.values())))
        for code, n in logic.items():
            t.add_row(rule_title(code), "", "", "", str(n))
        console.print(t)
    elif ok:
        console.print("本次没有预警，也没有逻辑错误。")
    fb = summary.get("feedback")
    if fb:
        console.print(f"[bold]报回的核实表[/]（inbox/feedback/，{fb['files']} 个文件）：填写 {fb['rows']} 行，"
                      f"登记 {fb['recorded']} 行，此前已登记 {fb['duplicates']} 行，未能登记 {fb['rejected']} 行"
                      "（原因见拒收记录 rejects，下次下发的核实表也在该行“备注”中写明）")
        for reason, n in (fb.get("reasons") or {}).items():
            console.print(f"  未能登记：{reason} — {n} 行", markup=False)
        applied = fb.get("applied") or {}
        if applied:
            console.print(f"  预警已核实 {applied.get('warnings_verified', 0)} 条，暂停预警 {applied.get('suppressed', 0)} 条，"
                          f"核实属实未纳入 {applied.get('核实属实未纳入', 0)} 条；逻辑错误已核实"
                          f" {applied.get('logic_errors_verified', 0)} 条，整改未生效 {applied.get('整改未生效', 0)} 条，"
                          f"核实后暂停 {applied.get('logic_errors_suppressed', 0)} 条")
    others = [s for s in summary.get("skipped") or [] if s["kind"] not in ("file", "sheet")]
    if others:
        console.print("[bold]本次未运行或需要注意的内容[/]")
        for s in others:
            name = rule_title(s["name"]) if s["kind"] == "rule" else (
                table_title(s["name"]) if s["kind"] == "source" else s["name"])
            console.print(f"  {SKIP_KINDS.get(s['kind'], s['kind'])} {name}：{s['reason']}", markup=False)
    for drop in summary.get("volume_drops") or []:
        console.print(f"数据量骤降（S11）{drop['title']}：{drop['detail']}；依赖该数据的规则本次结果不完整："
                      f"{'、'.join(drop['rules']) or '无'}", style="bold red", markup=False)
    for name in summary.get("files_truncated") or []:
        console.print(f"文件可能被截断：{name}（最后一行不完整，已拒收；请部门重新报送完整文件）",
                      style="yellow", markup=False)
    for run_id in summary.get("recovered_runs") or []:
        console.print(f"[yellow]运行 {run_id} 未正常结束（进程被终止），已记录为失败[/]")
    notices = summary.get("config_notices") or []
    if notices:
        console.print("[bold yellow]配置文件提示[/]（以下配置项未生效，请检查拼写）")
        for n in notices:
            console.print(f"  {n}", style="yellow", markup=False)
    console.print(f"报表目录：{summary.get('reports_dir')}")
    console.print(f"数据仓库：{summary.get('warehouse')}")


# ---------------------------------------------------------------- fangpin runs

def print_runs(console, rows: list[dict]) -> None:
    from rich.table import Table

    zones = {r.get("timezone") for r in rows}
    zone = timezone_title(next(iter(zones))) if len(zones) == 1 else "记录时间"
    t = Table()
    for col in ("运行编号", "基准日期", "状态", f"开始时间（{zone}）", "用时（秒）", "入库行数", "拒收", "预警",
                "逻辑错误", "跳过"):
        t.add_column(col, justify="left" if col in ("运行编号", "基准日期", "状态") or col.startswith("开始")
                     else "right")
    for r in rows:
        colour = {"completed": "green", "failed": "red"}.get(r["status"], "yellow")
        t.add_row(r["run_id"], str(r["as_of"]), f"[{colour}]{STATUS_TITLES.get(r['status'], r['status'])}[/]",
                  shown_time(r["started_at"]), _n(r["seconds"], "{:.1f}"), _n(r["rows_loaded"]),
                  _n(r["rows_rejected"]), _n(r["warnings"]), _n(r["logic_errors"]), _n(r["skipped"]))
    console.print(t)
    for r in rows:
        if r["status"] == "failed" and r.get("error"):
            console.print(f"{r['run_id']} 失败原因：{r['error']}", style="red", markup=False)


# ---------------------------------------------------------------- fangpin serve

def serve_lines(inbox, out, config, cron: str, timezone: str, name: str, api: str | None,
                next_run: datetime | None) -> list[str]:
    """What `fangpin serve` says when it starts: what it runs, where from and to, and when next."""
    lines = [
        f"防贫每晚运行登记为 fangpin-nightly/{name}，本进程按计划执行（按 Ctrl+C 停止；停止期间计划暂停，不会积压）",
        f"  收件目录（inbox）：{inbox}",
        f"  输出目录（out）：{out}",
        f"  配置文件：{config if config else '未指定（使用默认设置）'}",
        f"  运行计划：{describe_cron(cron)}（{timezone_title(timezone)}，cron “{cron}”，时区 {timezone}）",
    ]
    if next_run is not None:
        lines.append(f"  下一次运行：{next_run.strftime('%Y-%m-%d %H:%M')}（{timezone_title(timezone)}）")
    if api:
        lines.append(f"  Prefect 服务：{api}")
    return lines


def describe_cron(cron: str) -> str:
    """"0 2 * * *" -> 每天 02:00; anything else is shown as written."""
    parts = cron.split()
    if len(parts) == 5 and parts[0].isdigit() and parts[1].isdigit() and parts[2:] == ["*", "*", "*"]:
        return f"每天 {int(parts[1]):02d}:{int(parts[0]):02d}"
    if len(parts) == 5 and parts[0].isdigit() and parts[1].isdigit() and parts[2:4] == ["*", "*"] \
            and parts[4] in ("1-5", "MON-FRI", "mon-fri"):
        return f"周一至周五 {int(parts[1]):02d}:{int(parts[0]):02d}"
    return f"按 cron 表达式 {cron}"
