-- L01 风险已消除但无帮扶措施 (household).
-- Policy: 甘肃整改通知 六、数据质量方面 ("标注风险已消除的监测对象，没有采录帮扶措施，存在逻辑错误").
-- Fires when risk_eliminated = 是 and the household has no row at all in measures.
WITH eliminated AS (
    SELECT household_id, county, township, village, risk_eliminated_date
    FROM households
    WHERE risk_eliminated = '是'
),
with_measures AS (
    SELECT DISTINCT household_id FROM measures WHERE household_id IS NOT NULL
)
SELECT
    e.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    e.county, e.township, e.village,
    '风险已消除' || coalesce('（风险消除时间 ' || strftime(e.risk_eliminated_date, '%Y-%m-%d') || '）', '')
        || '，但系统中没有录入任何帮扶措施' AS detail
FROM eliminated AS e
ANTI JOIN with_measures AS w USING (household_id);
