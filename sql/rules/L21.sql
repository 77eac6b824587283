-- L21 残疾状态不一致 (person; active members).
-- Policy: 残联残疾人证数据比对（健康状况“残疾”应与有效残疾人证一致）.
-- Fires when health = 残疾 but the person holds no 有效 certificate, or holds one and health is
-- not 残疾 (empty included). Skipped by the runner when the disability extract is absent.
WITH valid_certs AS (
    SELECT
        id_number,
        string_agg(DISTINCT coalesce(category, '') || coalesce(grade, ''), '、') AS kinds
    FROM disability_certificates
    WHERE cert_status = '有效'
      AND id_number IS NOT NULL
    GROUP BY id_number
)
SELECT
    m.household_id,
    m.id_number,
    m.name,
    m.county, m.township, m.village,
    CASE
        WHEN c.id_number IS NULL THEN '健康状况为残疾，但残联无该成员的有效残疾人证'
        ELSE '残联有有效残疾人证（' || c.kinds || '），但健康状况为' || coalesce(m.health, '空')
    END AS detail
FROM active_members AS m
LEFT JOIN valid_certs AS c USING (id_number)
WHERE (m.health = '残疾' AND c.id_number IS NULL)
   OR (c.id_number IS NOT NULL AND m.health IS DISTINCT FROM '残疾');
