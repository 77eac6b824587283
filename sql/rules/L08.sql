-- L08 监测对象类别错误 (household).
-- Policy: 甘肃整改通知 三、监测对象分类方面（“三类户”分类把握不准）.
-- Fires for 脱贫不稳定户 with no exit_year (must be a former-poor household), or
-- 边缘易致贫户 with an exit_year (must never have been poor).
SELECT
    household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    county, township, village,
    CASE
        WHEN monitoring_category = '脱贫不稳定户'
            THEN '监测对象类别为脱贫不稳定户，但脱贫年度为空（脱贫不稳定户应为已脱贫户）'
        ELSE '监测对象类别为边缘易致贫户，但填有脱贫年度 ' || exit_year || '（边缘易致贫户应为非脱贫户）'
    END AS detail
FROM households
WHERE (monitoring_category = '脱贫不稳定户' AND exit_year IS NULL)
   OR (monitoring_category = '边缘易致贫户' AND exit_year IS NOT NULL);
