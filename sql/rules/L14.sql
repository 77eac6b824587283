-- L14 家庭人口数不一致 (household).
-- Policy: 甘肃整改通知 六、数据质量方面（基础信息线上线下一致）.
-- Fires when household_size differs from the number of active members (status 正常 or empty,
-- no death registration by the as-of date). An empty household_size differs too: the township
-- must fill it in.
WITH counted AS (
    SELECT household_id, count(*) AS n_active
    FROM active_members
    GROUP BY household_id
)
SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    '家庭人口数为 ' || coalesce(h.household_size::VARCHAR || ' 人', '空')
        || '，但在册（正常状态且未登记死亡）成员为 ' || coalesce(c.n_active, 0) || ' 人' AS detail
FROM households AS h
LEFT JOIN counted AS c USING (household_id)
WHERE h.household_size IS DISTINCT FROM coalesce(c.n_active, 0);
