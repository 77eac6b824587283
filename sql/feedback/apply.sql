-- Effects of the townships' verifications on this run's warnings and logic errors (outputs.md
-- "Verification returned by townships"). Reads every verification of completed runs plus this
-- run's; the latest per row wins (verification date, then the run that recorded it).
-- Variables: run_id, as_of, suppress_days, inclusion_grace_days; fb_roster_present (boolean).

CREATE OR REPLACE TEMP TABLE fb_latest AS
WITH allv AS (
    SELECT v.*, r.started_at AS recorded_at
    FROM hist.verifications AS v JOIN hist.runs AS r USING (run_id)
    WHERE r.status = 'completed'
    UNION ALL BY NAME
    SELECT v.*, r.started_at AS recorded_at
    FROM main.verifications AS v JOIN main.runs AS r USING (run_id)
    WHERE v.run_id = getvariable('run_id')
)
SELECT *,
    -- the as-of date of the workbook it came in (县_乡镇_日期.xlsx), else the verification date
    coalesce(try(make_date(
        CAST(regexp_extract(regexp_extract(source_file, '[^/\\]*$'), '(20[0-9]{2})-?([0-9]{2})-?([0-9]{2})', 1) AS INTEGER),
        CAST(regexp_extract(regexp_extract(source_file, '[^/\\]*$'), '(20[0-9]{2})-?([0-9]{2})-?([0-9]{2})', 2) AS INTEGER),
        CAST(regexp_extract(regexp_extract(source_file, '[^/\\]*$'), '(20[0-9]{2})-?([0-9]{2})-?([0-9]{2})', 3) AS INTEGER))),
        verified_on) AS ref_date
FROM allv
QUALIFY row_number() OVER (
    PARTITION BY rule_code, household_id, id_number
    ORDER BY verified_on DESC, recorded_at DESC, source_file DESC, source_row DESC
) = 1;

-- The published warning rows of the verified keys, keyed the way verifications are (id_number
-- only out-of-roster).
CREATE OR REPLACE TEMP TABLE fb_hist_warnings AS
SELECT w.*, CASE WHEN w.in_roster THEN NULL ELSE w.id_number END AS key_id,
       r.as_of_date AS run_as_of, r.finished_at AS run_finished
FROM hist.warnings AS w
JOIN hist.runs AS r USING (run_id)
JOIN (SELECT DISTINCT rule_code, household_id, id_number FROM fb_latest WHERE rule_code LIKE 'W%') AS k
  ON k.rule_code = w.rule_code
 AND k.household_id IS NOT DISTINCT FROM w.household_id
 AND k.id_number IS NOT DISTINCT FROM (CASE WHEN w.in_roster THEN NULL ELSE w.id_number END)
WHERE r.status = 'completed' AND r.as_of_date <= getvariable('as_of');

-- The warning as it stood when it was sent: the latest run on or before the workbook's date,
-- else the earliest run that raised it. Its evidence_key is what the verification vouched for.
CREATE OR REPLACE TEMP TABLE fb_latest_w AS
SELECT l.*, ref.evidence_key AS ref_evidence_key, ref.run_id IS NOT NULL AS has_ref
FROM fb_latest AS l
LEFT JOIN fb_hist_warnings AS ref
  ON ref.rule_code = l.rule_code
 AND ref.household_id IS NOT DISTINCT FROM l.household_id
 AND ref.key_id IS NOT DISTINCT FROM l.id_number
WHERE l.rule_code LIKE 'W%'
QUALIFY row_number() OVER (
    PARTITION BY l.rule_code, l.household_id, l.id_number
    ORDER BY (ref.run_as_of <= l.ref_date) DESC,
             CASE WHEN ref.run_as_of <= l.ref_date THEN ref.run_as_of END DESC NULLS LAST,
             ref.run_as_of ASC, ref.run_finished DESC
) = 1;

-- Verified 属实-已纳入监测, grace period over, and the household (or the out-of-roster person)
-- still not monitored in this run's roster.
CREATE OR REPLACE TEMP TABLE fb_not_included AS
WITH monitored AS (
    SELECT household_id FROM main.households
    WHERE nullif(trim(monitoring_category), '') IS NOT NULL
), monitored_people AS (
    SELECT m.id_number FROM main.members AS m JOIN monitored USING (household_id)
    WHERE coalesce(nullif(trim(m.status), ''), '正常') = '正常'
)
SELECT l.*
FROM fb_latest_w AS l
WHERE getvariable('fb_roster_present')
  AND l.result = '属实-已纳入监测'
  AND l.verified_on + CAST(getvariable('inclusion_grace_days') AS INTEGER) < getvariable('as_of')
  AND CASE WHEN l.household_id IS NOT NULL
           THEN l.household_id NOT IN (SELECT household_id FROM monitored WHERE household_id IS NOT NULL)
           ELSE l.id_number NOT IN (SELECT id_number FROM monitored_people WHERE id_number IS NOT NULL) END;

UPDATE warnings AS w SET
    verification = l.result,
    verified_on = l.verified_on,
    suppressed = (w.status <> '已解除'
                  AND l.result IN ('不属实', '属实-暂不纳入')
                  AND getvariable('as_of') <= l.verified_on + CAST(getvariable('suppress_days') AS INTEGER)
                  AND (NOT l.has_ref OR w.evidence_key IS NOT DISTINCT FROM l.ref_evidence_key))
FROM fb_latest_w AS l
WHERE w.run_id = getvariable('run_id')
  AND w.rule_code = l.rule_code
  AND w.household_id IS NOT DISTINCT FROM l.household_id
  AND (CASE WHEN w.in_roster THEN NULL ELSE w.id_number END) IS NOT DISTINCT FROM l.id_number
  AND w.township IS NOT DISTINCT FROM l.township;

-- Listed again: a still-firing row is flagged; a row that no longer fires (已解除 now, or gone
-- since an earlier run) is put back as 持续 from its latest published form.
UPDATE warnings AS w SET
    flag = '核实属实未纳入',
    status = CASE WHEN w.status = '已解除' THEN '持续' ELSE w.status END,
    suppressed = false
FROM fb_not_included AS l
WHERE w.run_id = getvariable('run_id')
  AND w.rule_code = l.rule_code
  AND w.household_id IS NOT DISTINCT FROM l.household_id
  AND (CASE WHEN w.in_roster THEN NULL ELSE w.id_number END) IS NOT DISTINCT FROM l.id_number
  AND w.township IS NOT DISTINCT FROM l.township;

INSERT INTO warnings BY NAME
SELECT h.* EXCLUDE (run_id, status, verification, verified_on, suppressed, flag, key_id, run_as_of, run_finished),
    getvariable('run_id') AS run_id, '持续' AS status,
    l.result AS verification, l.verified_on, false AS suppressed, '核实属实未纳入' AS flag
FROM fb_not_included AS l
JOIN fb_hist_warnings AS h
  ON h.rule_code = l.rule_code
 AND h.household_id IS NOT DISTINCT FROM l.household_id
 AND h.key_id IS NOT DISTINCT FROM l.id_number
 AND h.township IS NOT DISTINCT FROM l.township
WHERE NOT EXISTS (
    SELECT 1 FROM warnings AS w
    WHERE w.run_id = getvariable('run_id') AND w.rule_code = l.rule_code
      AND w.household_id IS NOT DISTINCT FROM l.household_id
      AND (CASE WHEN w.in_roster THEN NULL ELSE w.id_number END) IS NOT DISTINCT FROM l.id_number)
QUALIFY row_number() OVER (
    PARTITION BY h.rule_code, h.household_id, h.key_id
    ORDER BY (h.status <> '已解除') DESC, h.run_as_of DESC, h.run_finished DESC
) = 1;

-- Logic errors: show the latest result; 已整改 before this run's date and still firing = 整改未生效.
UPDATE logic_errors AS e SET
    verification = l.result,
    verified_on = l.verified_on,
    flag = CASE WHEN l.result = '已整改' AND l.verified_on < getvariable('as_of') THEN '整改未生效' ELSE e.flag END
FROM fb_latest AS l
WHERE e.run_id = getvariable('run_id')
  AND l.rule_code LIKE 'L%'
  AND e.rule_code = l.rule_code
  AND e.household_id IS NOT DISTINCT FROM l.household_id
  AND e.id_number IS NOT DISTINCT FROM l.id_number
  AND e.township IS NOT DISTINCT FROM l.township;

-- Logic errors a township may verify away (the registry's suppress_on: L26 verified 不属实 records
-- that the household's special hardship was verified, Ganzi 第五条): suppressed like a warning —
-- for suppress_days after 核实日期, unless the records behind it changed (evidence_key) since the
-- workbook that was verified. fb_suppressible (rule_code, result) is set from the registry.
CREATE OR REPLACE TEMP TABLE fb_latest_e AS
WITH ref AS (
    SELECT e.rule_code, e.household_id, e.id_number, e.evidence_key,
           r.as_of_date AS run_as_of, r.finished_at AS run_finished, e.run_id
    FROM hist.logic_errors AS e
    JOIN hist.runs AS r USING (run_id)
    WHERE r.status = 'completed' AND r.as_of_date <= getvariable('as_of')
      AND e.rule_code IN (SELECT rule_code FROM fb_suppressible)
)
SELECT l.*, ref.evidence_key AS ref_evidence_key, ref.run_id IS NOT NULL AS has_ref
FROM fb_latest AS l
JOIN fb_suppressible AS s ON s.rule_code = l.rule_code AND s.result = l.result
LEFT JOIN ref
  ON ref.rule_code = l.rule_code
 AND ref.household_id IS NOT DISTINCT FROM l.household_id
 AND ref.id_number IS NOT DISTINCT FROM l.id_number
QUALIFY row_number() OVER (
    PARTITION BY l.rule_code, l.household_id, l.id_number
    ORDER BY (ref.run_as_of <= l.ref_date) DESC,
             CASE WHEN ref.run_as_of <= l.ref_date THEN ref.run_as_of END DESC NULLS LAST,
             ref.run_as_of ASC, ref.run_finished DESC
) = 1;

UPDATE logic_errors AS e SET
    suppressed = (getvariable('as_of') <= l.verified_on + CAST(getvariable('suppress_days') AS INTEGER)
                  AND (NOT l.has_ref OR e.evidence_key IS NOT DISTINCT FROM l.ref_evidence_key))
FROM fb_latest_e AS l
WHERE e.run_id = getvariable('run_id')
  AND e.rule_code = l.rule_code
  AND e.household_id IS NOT DISTINCT FROM l.household_id
  AND e.id_number IS NOT DISTINCT FROM l.id_number
  AND e.township IS NOT DISTINCT FROM l.township;
