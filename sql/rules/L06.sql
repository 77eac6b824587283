-- L06 风险消除过快 (household).
-- Policy: 七个不消 4（刚落实帮扶措施还没有见到效果或者帮扶效果不明显的不消）.
-- Fires when risk_eliminated = 是 and
--   date_diff('day', monitoring_start_date, risk_eliminated_date) < min_monitoring_days, or
--   date_diff('day', latest measure start_date on or before the elimination date,
--             risk_eliminated_date) < min_effect_days.
-- "Less than N days after" is taken literally as a day difference < N, so 179 days fires and
-- 180 does not; an elimination dated before monitoring start (negative difference) fires too
-- (and L15 reports the date order). A missing date leaves its half of the rule unevaluated.
WITH eliminated AS (
    SELECT household_id, county, township, village, monitoring_start_date, risk_eliminated_date
    FROM households
    WHERE risk_eliminated = '是'
      AND risk_eliminated_date IS NOT NULL
),
latest_measure AS (
    SELECT e.household_id, max(m.start_date) AS measure_start
    FROM eliminated AS e
    JOIN measures AS m
      ON m.household_id = e.household_id
     AND m.start_date <= e.risk_eliminated_date
    GROUP BY e.household_id
),
spans AS (
    SELECT
        e.*,
        l.measure_start,
        date_diff('day', e.monitoring_start_date, e.risk_eliminated_date) AS monitored_days,
        date_diff('day', l.measure_start, e.risk_eliminated_date) AS effect_days
    FROM eliminated AS e
    LEFT JOIN latest_measure AS l USING (household_id)
)
SELECT
    household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    county, township, village,
    concat_ws('；',
        CASE WHEN monitored_days < getvariable('min_monitoring_days') THEN
            '风险消除时间 ' || strftime(risk_eliminated_date, '%Y-%m-%d')
            || ' 距识别监测时间 ' || strftime(monitoring_start_date, '%Y-%m-%d')
            || ' 仅 ' || monitored_days || ' 天（少于 ' || getvariable('min_monitoring_days') || ' 天）'
        END,
        CASE WHEN effect_days < getvariable('min_effect_days') THEN
            '风险消除时间 ' || strftime(risk_eliminated_date, '%Y-%m-%d')
            || ' 距最近一项帮扶措施开始时间 ' || strftime(measure_start, '%Y-%m-%d')
            || ' 仅 ' || effect_days || ' 天（少于 ' || getvariable('min_effect_days') || ' 天，帮扶尚未见效）'
        END
    ) AS detail
FROM spans
WHERE monitored_days < getvariable('min_monitoring_days')
   OR effect_days < getvariable('min_effect_days');
