-- L23 住房安全标注与鉴定不一致 (household).
-- Policy: 住建农村房屋安全鉴定比对（住房安全保障；七个不消 1）.
-- Fires when housing_guaranteed = 是 but an active member of the household owns a house as in
-- W05: grade C or D, renovation not 已改造 / 不需改造 (empty counts as not renovated), and
-- only_house not 否. Skipped by the runner when the housing extract is absent.
WITH unsafe AS (
    SELECT
        owner_id_number,
        replace(grade, '级', '') || '级' AS grade,
        renovation,
        assessed_date
    FROM housing_assessments
    WHERE replace(grade, '级', '') IN ('C', 'D')
      AND (renovation IS NULL OR renovation NOT IN ('已改造', '不需改造'))
      AND only_house IS DISTINCT FROM '否'
      AND owner_id_number IS NOT NULL
),
owned AS (
    SELECT
        m.household_id,
        string_agg(
            m.name || ' 的房屋鉴定为' || u.grade || '（' || coalesce(u.renovation, '改造状态空')
            || coalesce('，鉴定日期 ' || strftime(u.assessed_date, '%Y-%m-%d'), '') || '）',
            '；' ORDER BY m.name, u.assessed_date
        ) AS houses
    FROM active_members AS m
    JOIN unsafe AS u ON u.owner_id_number = m.id_number
    GROUP BY m.household_id
)
SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    '住房安全保障为“是”，但' || o.houses AS detail
FROM households AS h
JOIN owned AS o USING (household_id)
WHERE h.housing_guaranteed = '是';
