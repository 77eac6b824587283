-- L04 风险已消除但整户无劳动能力 (household).
-- Policy: 七个不消 5（虽已落实帮扶政策但整户不具备或丧失劳动能力的不消）.
-- Fires when risk_eliminated = 是 and every active member's labor is 丧失劳动力 or 无劳动力.
-- A household with no active member is not "整户无劳动能力" (L14 reports its size instead);
-- a member whose labor is empty is not counted as without labour.
WITH labour AS (
    SELECT
        household_id,
        count(*) AS n_active,
        count(*) FILTER (WHERE labor IN ('丧失劳动力', '无劳动力')) AS n_without
    FROM active_members
    GROUP BY household_id
)
SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    '风险已消除，但全部 ' || l.n_active || ' 名在册成员劳动技能均为丧失劳动力或无劳动力（整户无劳动能力）' AS detail
FROM households AS h
JOIN labour AS l USING (household_id)
WHERE h.risk_eliminated = '是'
  AND l.n_active > 0
  AND l.n_without = l.n_active;
