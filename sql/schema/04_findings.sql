-- What the rules found (outputs.md: warnings, logic_errors, source_checks, verifications).

CREATE TABLE IF NOT EXISTS warnings (
    run_id          VARCHAR NOT NULL,
    rule_code       VARCHAR NOT NULL,
    household_id    VARCHAR,
    id_number       VARCHAR,
    name            VARCHAR,
    county          VARCHAR,
    township        VARCHAR,
    village         VARCHAR,
    in_roster       BOOLEAN NOT NULL,
    risk_type       VARCHAR,
    evidence        VARCHAR,
    evidence_key    VARCHAR,
    first_seen_run  VARCHAR,
    first_seen_date DATE,
    status          VARCHAR NOT NULL,
    deadline        DATE,
    verification    VARCHAR,
    verified_on     DATE,
    suppressed      BOOLEAN NOT NULL DEFAULT false,
    flag            VARCHAR
);
COMMENT ON TABLE warnings IS '部门筛查预警 One row per (rule, household) or (rule, out-of-roster person) per run, with history status.';
COMMENT ON COLUMN warnings.run_id IS '运行编号 The run.';
COMMENT ON COLUMN warnings.rule_code IS '预警规则 W01…W14 (rules.md).';
COMMENT ON COLUMN warnings.household_id IS '户编号 Roster household; null for an out-of-roster person.';
COMMENT ON COLUMN warnings.id_number IS '证件号码 The triggering person (out-of-roster), else the household head''s ID number.';
COMMENT ON COLUMN warnings.name IS '姓名 The out-of-roster person, else the household head.';
COMMENT ON COLUMN warnings.county IS '县 County.';
COMMENT ON COLUMN warnings.township IS '乡镇 Township the warning is sent to (roster township, or the department record''s for out-of-roster people).';
COMMENT ON COLUMN warnings.village IS '村 Village.';
COMMENT ON COLUMN warnings.in_roster IS '是否在册 false = 非建档立卡/监测户: a 发现一户纳入一户 candidate.';
COMMENT ON COLUMN warnings.risk_type IS '风险类型 As rules.md gives for the rule.';
COMMENT ON COLUMN warnings.evidence IS '预警原因 Plain Chinese: amounts, dates, grades and the source records.';
COMMENT ON COLUMN warnings.evidence_key IS '证据指纹 Hash of the triggering records; a change lifts a suppression.';
COMMENT ON COLUMN warnings.first_seen_run IS '首次预警运行 The run that first raised it (carried over while it lasts).';
COMMENT ON COLUMN warnings.first_seen_date IS '首次预警日期 As-of date of first_seen_run.';
COMMENT ON COLUMN warnings.status IS '状态 新增 (first seen) / 持续 (still firing) / 已解除 (fired in the previous run, not in this one).';
COMMENT ON COLUMN warnings.deadline IS '核实期限 first_seen_date + the rule''s verify-within period (working days on the official calendar: weekends and public holidays skipped, 调休 make-up days counted; checks/workdays.py).';
COMMENT ON COLUMN warnings.verification IS '核实结果 Latest verification result returned by the township, or null.';
COMMENT ON COLUMN warnings.verified_on IS '核实日期 Date of that verification.';
COMMENT ON COLUMN warnings.suppressed IS '暂停预警 true while a 不属实 / 属实-暂不纳入 verification suppresses it (suppress_days).';
COMMENT ON COLUMN warnings.flag IS '标记 e.g. 核实属实未纳入 when verified to be monitored but still not monitored after inclusion_grace_days.';

CREATE TABLE IF NOT EXISTS logic_errors (
    run_id          VARCHAR NOT NULL,
    rule_code       VARCHAR NOT NULL,
    household_id    VARCHAR,
    id_number       VARCHAR,
    name            VARCHAR,
    county          VARCHAR,
    township        VARCHAR,
    village         VARCHAR,
    detail          VARCHAR,
    evidence_key    VARCHAR,
    verification    VARCHAR,
    verified_on     DATE,
    suppressed      BOOLEAN NOT NULL DEFAULT false,
    flag            VARCHAR
);
COMMENT ON TABLE logic_errors IS '逻辑错误 Roster logic errors L01…L27: one row per household (household-level) or per member row (person-level) per run.';
COMMENT ON COLUMN logic_errors.run_id IS '运行编号 The run.';
COMMENT ON COLUMN logic_errors.rule_code IS '错误规则 L01…L27 (rules.md).';
COMMENT ON COLUMN logic_errors.household_id IS '户编号 Household.';
COMMENT ON COLUMN logic_errors.id_number IS '证件号码 The member for person-level rules; null for household-level rules.';
COMMENT ON COLUMN logic_errors.name IS '成员姓名 The member for person-level rules; null for household-level rules.';
COMMENT ON COLUMN logic_errors.county IS '县 County.';
COMMENT ON COLUMN logic_errors.township IS '乡镇 Township.';
COMMENT ON COLUMN logic_errors.village IS '村 Village.';
COMMENT ON COLUMN logic_errors.detail IS '错误说明 What is wrong, in plain Chinese, with the values.';
COMMENT ON COLUMN logic_errors.evidence_key IS '依据指纹 For rules a township may verify away (L26): a digest of the records behind the error; a new holding changes it and lifts the suppression.';
COMMENT ON COLUMN logic_errors.verification IS '核实结果 Latest result returned by the township (已整改 / 不属实), or null.';
COMMENT ON COLUMN logic_errors.verified_on IS '核实日期 Date of that verification.';
COMMENT ON COLUMN logic_errors.suppressed IS '暂停 Reserved for symmetry with warnings; logic errors are not suppressed.';
COMMENT ON COLUMN logic_errors.flag IS '标记 整改未生效 when verified 已整改 and still firing.';

CREATE TABLE IF NOT EXISTS source_checks (
    run_id          VARCHAR NOT NULL,
    source_table    VARCHAR NOT NULL,
    check_code      VARCHAR NOT NULL,
    township        VARCHAR,
    checked         BIGINT,
    failed          BIGINT,
    detail          VARCHAR
);
COMMENT ON TABLE source_checks IS '数据源质量 S01…S11 per department table, overall (township null) and per township where it applies.';
COMMENT ON COLUMN source_checks.run_id IS '运行编号 The run.';
COMMENT ON COLUMN source_checks.source_table IS '数据表 The warehouse table checked.';
COMMENT ON COLUMN source_checks.check_code IS '检查 S01…S11 (rules.md).';
COMMENT ON COLUMN source_checks.township IS '乡镇 Township for per-township figures; null for the whole extract.';
COMMENT ON COLUMN source_checks.checked IS '检查数 Rows (or columns, for S01; days, for S09) checked.';
COMMENT ON COLUMN source_checks.failed IS '不合格数 How many of them failed.';
COMMENT ON COLUMN source_checks.detail IS '说明 Short explanation (no personal data).';

CREATE TABLE IF NOT EXISTS verifications (
    run_id          VARCHAR NOT NULL,
    rule_code       VARCHAR NOT NULL,
    household_id    VARCHAR,
    id_number       VARCHAR,
    township        VARCHAR,
    result          VARCHAR NOT NULL,
    verifier        VARCHAR,
    verified_on     DATE,
    source_file     VARCHAR,
    source_sheet    VARCHAR,
    source_row      INTEGER
);
COMMENT ON TABLE verifications IS '核查反馈 Results returned by townships in their workbooks (inbox/feedback/), full history; the latest per row wins.';
COMMENT ON COLUMN verifications.run_id IS '运行编号 The run that read the returned workbook.';
COMMENT ON COLUMN verifications.rule_code IS '规则 W or L rule code of the row verified.';
COMMENT ON COLUMN verifications.household_id IS '户编号 Household, null for an out-of-roster person.';
COMMENT ON COLUMN verifications.id_number IS '证件号码 Out-of-roster person or member (person-level logic errors).';
COMMENT ON COLUMN verifications.township IS '乡镇 Township of the household (must be the township whose workbook it came in).';
COMMENT ON COLUMN verifications.result IS '核实结果 属实-已纳入监测 / 属实-已落实帮扶 / 属实-暂不纳入 / 不属实 (warnings); 已整改 / 不属实 (logic errors).';
COMMENT ON COLUMN verifications.verifier IS '核实人 Who verified.';
COMMENT ON COLUMN verifications.verified_on IS '核实日期 When.';
COMMENT ON COLUMN verifications.source_file IS '来源文件 Returned workbook, relative to the inbox.';
COMMENT ON COLUMN verifications.source_sheet IS '来源工作表 Sheet (预警名单 / 逻辑错误 / 已核实).';
COMMENT ON COLUMN verifications.source_row IS '来源行号 Row in that sheet.';

CREATE TABLE IF NOT EXISTS verification_refusals (
    run_id          VARCHAR NOT NULL,
    rule_code       VARCHAR NOT NULL,
    household_id    VARCHAR,
    id_number       VARCHAR,
    township        VARCHAR,
    sent_by         VARCHAR,
    result_raw      VARCHAR,
    verifier_raw    VARCHAR,
    date_raw        VARCHAR,
    reason          VARCHAR NOT NULL,
    source_file     VARCHAR,
    source_sheet    VARCHAR,
    source_row      INTEGER
);
COMMENT ON TABLE verification_refusals IS '未能登记的核查反馈 Returned rows that matched a row the county sent but could not be recorded (a value outside the list, an unreadable or future 核实日期): the next workbook repeats the reason in that row''s 备注 until a result is recorded. The same rows are in rejects (source_table = verifications).';
COMMENT ON COLUMN verification_refusals.run_id IS '运行编号 The run that read the returned workbook.';
COMMENT ON COLUMN verification_refusals.rule_code IS '规则 W or L rule code of the row.';
COMMENT ON COLUMN verification_refusals.household_id IS '户编号 Household, null for an out-of-roster person.';
COMMENT ON COLUMN verification_refusals.id_number IS '证件号码 Out-of-roster person or member (person-level logic errors), as in verifications.';
COMMENT ON COLUMN verification_refusals.township IS '乡镇 Township of the household.';
COMMENT ON COLUMN verification_refusals.sent_by IS '报回乡镇 Township whose file it came in (null when the file''s township could not be told).';
COMMENT ON COLUMN verification_refusals.result_raw IS '核实结果 As typed.';
COMMENT ON COLUMN verification_refusals.verifier_raw IS '核实人 As typed.';
COMMENT ON COLUMN verification_refusals.date_raw IS '核实日期 As typed.';
COMMENT ON COLUMN verification_refusals.reason IS '原因 Why it was not recorded, as in rejects.';
COMMENT ON COLUMN verification_refusals.source_file IS '来源文件 Returned workbook, relative to the inbox.';
COMMENT ON COLUMN verification_refusals.source_sheet IS '来源工作表 Sheet.';
COMMENT ON COLUMN verification_refusals.source_row IS '来源行号 Row in that sheet.';
