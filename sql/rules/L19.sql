-- L19 死亡人员未标注 (person; every member row).
-- Policy: 民政火化/死亡登记比对（自然减员应及时标注）.
-- Fires when a member's status is 正常 or empty and civil affairs registered the death of that ID
-- on or before the as-of date (deaths_asof). Skipped by the runner when no death extract came in.
SELECT
    m.household_id,
    m.id_number,
    m.name,
    h.county, h.township, h.village,
    '人员状态为' || coalesce(nullif(m.status, ''), '空') || '，但民政死亡（火化）登记显示已于 '
        || strftime(d.death_date, '%Y-%m-%d') || ' 死亡，应标注为死亡' AS detail
FROM members AS m
JOIN deaths_asof AS d USING (id_number)
LEFT JOIN households AS h USING (household_id)
WHERE coalesce(nullif(m.status, ''), '正常') = '正常';
