-- L25 饮水安全标注与水利评价不一致 (household).
-- Policy: 水利农村饮水安全评价比对（饮水安全保障；七个不消 1）.
-- Fires when water_guaranteed = 是 but an active member's latest drinking-water assessment fails
-- as in W13 (model water_latest: any of the four indicators 否 on a row of the latest date).
-- Skipped by the runner when the water extract is absent.
WITH failing AS (
    SELECT
        m.household_id,
        string_agg(
            m.name || ' 的饮水安全评价（' || coalesce(strftime(w.assessed_date, '%Y-%m-%d'), '日期不详')
            || '）' || w.failing,
            '；' ORDER BY m.name, w.assessed_date, w.source_file, w.source_row
        ) AS items
    FROM active_members AS m
    JOIN water_latest AS w ON w.id_number = m.id_number
    WHERE w.failing IS NOT NULL
    GROUP BY m.household_id
)
SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    '饮水安全保障为“是”，但' || f.items AS detail
FROM households AS h
JOIN failing AS f USING (household_id)
WHERE h.water_guaranteed = '是';
