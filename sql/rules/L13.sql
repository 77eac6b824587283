-- L13 户主信息异常 (household).
-- Policy: 户籍信息采集规范（每户有且仅有一名户主，户主证件号码与户主成员一致）.
-- Fires when the household's active members do not hold exactly one 户主, or head_id_number is
-- not that 户主's (normalised) ID. A household with no active member has no 户主 and fires.
WITH heads AS (
    SELECT
        household_id,
        count(*) AS n_heads,
        min(id_number) AS head_member_id,
        min(name) AS head_member_name
    FROM active_members
    WHERE relation = '户主'
    GROUP BY household_id
),
compared AS (
    SELECT
        h.household_id, h.county, h.township, h.village, h.head_id_number,
        coalesce(x.n_heads, 0) AS n_heads, x.head_member_id, x.head_member_name
    FROM households AS h
    LEFT JOIN heads AS x USING (household_id)
)
SELECT
    household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    county, township, village,
    CASE
        WHEN n_heads <> 1 THEN '在册成员中与户主关系为“户主”的有 ' || n_heads || ' 人（应为 1 人）'
        ELSE '户主证件号码 ' || coalesce(head_id_number, '（空）') || ' 与户主成员 '
            || coalesce(head_member_name, '') || ' 的证件号码 ' || coalesce(head_member_id, '（空）')
            || ' 不一致'
    END AS detail
FROM compared
WHERE n_heads <> 1
   OR head_id_number IS DISTINCT FROM head_member_id;
