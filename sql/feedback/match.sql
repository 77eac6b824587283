-- Returned verification rows (核查反馈) matched against what the county sent out.
-- Input: fb_rows (one row per filled sheet row: cells as text and normalised, by checks/feedback.py),
--        fb_files (file -> the county/township it belongs to, as told by its name; date in its name).
-- Variables: as_of, fb_county (the configured county, for rows that carry none).
-- Output: fb_matched (every row with its normalised values, matched key, township and reject reason).
-- A returned row refers to a row the county sent: a warning or logic error of a completed run
-- published before this one (hist.*), never to a row of this run.

-- A view, not a table: the joins below push the returned rows' keys into the history scan.
CREATE OR REPLACE TEMP VIEW fb_sent AS
SELECT 'W' AS family, w.rule_code, w.household_id,
       CASE WHEN w.in_roster THEN NULL ELSE w.id_number END AS key_id,
       w.id_number AS match_id, CAST(NULL AS VARCHAR) AS member_name,
       coalesce(w.county, getvariable('fb_county')) AS county, w.township, r.as_of_date, r.finished_at
FROM hist.warnings AS w JOIN hist.runs AS r USING (run_id)
WHERE r.status = 'completed' AND r.as_of_date <= getvariable('as_of')
UNION ALL
SELECT 'L', e.rule_code, e.household_id, e.id_number, e.id_number, e.name,
       coalesce(e.county, getvariable('fb_county')), e.township, r.as_of_date, r.finished_at
FROM hist.logic_errors AS e JOIN hist.runs AS r USING (run_id)
WHERE r.status = 'completed' AND r.as_of_date <= getvariable('as_of');

CREATE OR REPLACE TEMP TABLE fb_norm AS SELECT * FROM fb_rows;

-- Candidate published rows per returned row. Warnings: by household when 户编号 is filled (a row
-- whose 户编号 was changed is judged by the new one), else by ID (out-of-roster person, or a
-- household whose 户编号 cell was lost). Logic errors: by household and member ID, the member
-- name standing in when the ID cell was mangled. Two equi-joins, so neither is a nested loop.
CREATE OR REPLACE TEMP TABLE fb_cand AS
SELECT n.rid, s.rule_code, s.household_id, s.key_id, s.county, s.township, s.as_of_date, s.finished_at,
    CASE WHEN s.family = 'W' OR s.key_id IS NULL OR s.key_id = n.id_number THEN 0
         WHEN s.member_name = n.member_name THEN 1 END AS score
FROM fb_norm AS n
JOIN fb_sent AS s
  ON s.family = n.family AND s.rule_code = n.rule_code AND s.household_id = n.household_id
UNION ALL
SELECT n.rid, s.rule_code, s.household_id, s.key_id, s.county, s.township, s.as_of_date, s.finished_at,
    0 AS score
FROM fb_norm AS n
JOIN fb_sent AS s
  ON s.family = n.family AND s.rule_code = n.rule_code AND s.match_id = n.id_number
WHERE n.household_id IS NULL;

CREATE OR REPLACE TEMP TABLE fb_best AS
WITH scored AS (
    SELECT c.*, min(score) OVER (PARTITION BY rid) AS best
    FROM fb_cand AS c WHERE score IS NOT NULL
), keys AS (
    SELECT rid, count(DISTINCT (rule_code, household_id, coalesce(key_id, ''))) AS n_keys
    FROM scored WHERE score = best GROUP BY rid
)
SELECT s.rid, k.n_keys, s.rule_code, s.household_id, s.key_id, s.county, s.township
FROM scored AS s JOIN keys AS k USING (rid) JOIN fb_norm AS n USING (rid)
LEFT JOIN fb_files AS f ON f.file = n.file
WHERE s.score = s.best
-- the row as it stood in the workbook returned: the run of the file's date, else the latest before it
QUALIFY row_number() OVER (
    PARTITION BY s.rid
    ORDER BY (f.file_date IS NULL OR s.as_of_date <= f.file_date) DESC, s.as_of_date DESC, s.finished_at DESC
) = 1;

-- A file whose name names no township belongs to the township of its matched rows, when they agree.
CREATE OR REPLACE TEMP TABLE fb_file_township AS
SELECT f.file,
    coalesce(f.township, CASE WHEN count(DISTINCT (b.county, b.township)) = 1 THEN any_value(b.township) END) AS township,
    CASE WHEN f.township IS NOT NULL THEN f.county
         WHEN count(DISTINCT (b.county, b.township)) = 1 THEN any_value(b.county) END AS county
FROM fb_files AS f
LEFT JOIN fb_norm AS n ON n.file = f.file
LEFT JOIN fb_best AS b ON b.rid = n.rid AND b.n_keys = 1
GROUP BY f.file, f.county, f.township;

CREATE OR REPLACE TEMP TABLE fb_matched AS
SELECT n.rid, n.file, n.sheet, n.family, n.row_number, n.raw,
    b.rule_code, b.household_id, b.key_id, b.township, b.county,
    ft.township AS file_township,
    n.result, n.verifier, n.verified_on, n.result_raw, n.verifier_raw, n.date_raw, b.n_keys,
    CASE
        WHEN n.rule_code IS NULL THEN '无法识别规则代码: ' || coalesce(n.rule_raw, '(空)')
        WHEN b.rid IS NULL THEN '未匹配到已下发的' || CASE n.family WHEN 'W' THEN '预警' ELSE '逻辑错误' END
             || ' (规则 ' || n.rule_code || ', 户编号 ' || coalesce(n.household_id, '(空)') || ')'
        WHEN b.n_keys > 1 THEN '匹配到多条记录, 无法确定是哪一条 (请填写证件号码)'
        WHEN ft.township IS NULL THEN '无法确定文件所属乡镇 (文件名不含乡镇名, 且各行分属不同乡镇)'
        WHEN b.township IS DISTINCT FROM ft.township OR b.county IS DISTINCT FROM ft.county
            THEN '其他乡镇的户: 该户属于' || coalesce(b.township, '(未知乡镇)') || ', 不能由' || ft.township || '的反馈核实'
        WHEN n.result IS NULL THEN '核实结果为空'
        WHEN NOT list_contains(CASE n.family
                WHEN 'W' THEN ['属实-已纳入监测', '属实-已落实帮扶', '属实-暂不纳入', '不属实']
                ELSE ['已整改', '不属实'] END, n.result)
            THEN '核实结果不是可选值: ' || coalesce(n.result_raw, '') || ' (可选: ' || CASE n.family
                WHEN 'W' THEN '属实-已纳入监测 / 属实-已落实帮扶 / 属实-暂不纳入 / 不属实'
                ELSE '已整改 / 不属实' END || ')'
        WHEN n.verified_on IS NULL THEN
            CASE WHEN n.date_raw IS NULL THEN '核实日期为空' ELSE '核实日期无法识别: ' || n.date_raw END
        WHEN n.verified_on > getvariable('as_of') THEN '核实日期晚于本次运行的基准日期: ' || n.date_raw
    END AS reason
FROM fb_norm AS n
LEFT JOIN fb_best AS b USING (rid)
LEFT JOIN fb_file_township AS ft ON ft.file = n.file;
