-- L07 监测户无帮扶措施 (household).
-- Policy: 一户一策（七个不消 3：没有制定并实施“一户一策”帮扶计划的不消；宁夏“3310”十类帮扶措施）.
-- Fires when the household is at risk (monitoring_category not empty and risk_eliminated not 是),
-- date_diff('day', monitoring_start_date, as_of) > no_measure_grace_days, and it has no row in
-- measures. A household without a monitoring start date is not evaluated (its age is unknown).
WITH at_risk AS (
    SELECT
        household_id, county, township, village, monitoring_start_date,
        date_diff('day', monitoring_start_date, getvariable('as_of')) AS monitored_days
    FROM households
    WHERE nullif(trim(monitoring_category), '') IS NOT NULL
      AND risk_eliminated IS DISTINCT FROM '是'
),
with_measures AS (
    SELECT DISTINCT household_id FROM measures WHERE household_id IS NOT NULL
)
SELECT
    a.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    a.county, a.township, a.village,
    '监测户风险未消除，识别监测时间 ' || strftime(a.monitoring_start_date, '%Y-%m-%d')
        || ' 至基准日已 ' || a.monitored_days || ' 天（超过 ' || getvariable('no_measure_grace_days')
        || ' 天），仍未录入任何帮扶措施' AS detail
FROM at_risk AS a
ANTI JOIN with_measures AS w USING (household_id)
WHERE a.monitored_days > getvariable('no_measure_grace_days');
