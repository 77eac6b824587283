-- L05 风险已消除但有大病患者 (household).
-- Policy: 七个不消 6（有大病重病患者等特殊困难人口的不消）.
-- Fires when risk_eliminated = 是 and an active member's health is 患有大病.
WITH ill AS (
    SELECT household_id, string_agg(name, '、' ORDER BY name) AS names, count(*) AS n
    FROM active_members
    WHERE health = '患有大病'
    GROUP BY household_id
)
SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    '风险已消除，但家庭成员 ' || coalesce(i.names, '') || ' 健康状况为患有大病' AS detail
FROM households AS h
JOIN ill AS i USING (household_id)
WHERE h.risk_eliminated = '是';
