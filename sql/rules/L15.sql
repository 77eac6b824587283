-- L15 日期逻辑错误 (household).
-- Policy: 甘肃整改通知 六、数据质量方面（错报：日期前后矛盾）.
-- Fires when risk_eliminated_date < monitoring_start_date; when monitoring_start_date or
-- risk_eliminated_date is after the as-of date; when a measure's start_date or end_date is after
-- the as-of date (a planned end date counts: the rule reads "any measure date"); or when a
-- measure's end_date < start_date. One row per household listing every problem found.
-- Measures of a household_id absent from households cannot be placed and are not reported.
WITH household_problems AS (
    SELECT
        household_id,
        concat_ws('；',
            CASE WHEN risk_eliminated_date < monitoring_start_date THEN
                '风险消除时间 ' || strftime(risk_eliminated_date, '%Y-%m-%d') || ' 早于识别监测时间 '
                || strftime(monitoring_start_date, '%Y-%m-%d') END,
            CASE WHEN monitoring_start_date > getvariable('as_of') THEN
                '识别监测时间 ' || strftime(monitoring_start_date, '%Y-%m-%d') || ' 晚于基准日 '
                || strftime(getvariable('as_of'), '%Y-%m-%d') END,
            CASE WHEN risk_eliminated_date > getvariable('as_of') THEN
                '风险消除时间 ' || strftime(risk_eliminated_date, '%Y-%m-%d') || ' 晚于基准日 '
                || strftime(getvariable('as_of'), '%Y-%m-%d') END
        ) AS problems
    FROM households
),
measure_problems AS (
    SELECT
        household_id,
        string_agg(problem, '；' ORDER BY start_date, problem) AS problems
    FROM (
        SELECT
            household_id, start_date,
            concat_ws('；',
                CASE WHEN start_date > getvariable('as_of') THEN
                    '帮扶措施“' || coalesce(measure_type, '') || '”开始时间 '
                    || strftime(start_date, '%Y-%m-%d') || ' 晚于基准日' END,
                CASE WHEN end_date > getvariable('as_of') THEN
                    '帮扶措施“' || coalesce(measure_type, '') || '”结束时间 '
                    || strftime(end_date, '%Y-%m-%d') || ' 晚于基准日' END,
                CASE WHEN end_date < start_date THEN
                    '帮扶措施“' || coalesce(measure_type, '') || '”结束时间 '
                    || strftime(end_date, '%Y-%m-%d') || ' 早于开始时间 '
                    || strftime(start_date, '%Y-%m-%d') END
            ) AS problem
        FROM measures
        WHERE start_date > getvariable('as_of')
           OR end_date > getvariable('as_of')
           OR end_date < start_date
    )
    GROUP BY household_id
)
SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    concat_ws('；', nullif(hp.problems, ''), mp.problems) AS detail
FROM households AS h
JOIN household_problems AS hp USING (household_id)
LEFT JOIN measure_problems AS mp USING (household_id)
WHERE hp.problems <> '' OR mp.problems IS NOT NULL;
