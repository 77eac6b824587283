-- L02 风险已消除但三保障或饮水安全未实现 (household).
-- Policy: 七个不消 1（“三保障”和饮水安全未稳定实现的不消）.
-- Fires when risk_eliminated = 是 and any of edu / med / housing / water guaranteed = 否.
WITH eliminated AS (
    SELECT *
    FROM households
    WHERE risk_eliminated = '是'
),
unmet AS (
    SELECT
        household_id, county, township, village,
        concat_ws('、',
            CASE WHEN edu_guaranteed = '否' THEN '义务教育保障' END,
            CASE WHEN med_guaranteed = '否' THEN '基本医疗保障' END,
            CASE WHEN housing_guaranteed = '否' THEN '住房安全保障' END,
            CASE WHEN water_guaranteed = '否' THEN '饮水安全保障' END
        ) AS missing
    FROM eliminated
)
SELECT
    household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    county, township, village,
    '风险已消除，但' || missing || '为“否”（未实现）' AS detail
FROM unmet
WHERE missing <> '';
