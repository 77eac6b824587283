-- W14 小额信贷逾期 (rules.md W14; risk type 因产业项目失败; verify within 30 days; roster only).
-- Finds: microloans of an active roster member with status not 结清 (empty counts) and balance
--   not 0 (empty = unknown, counts) that are overdue: overdue_days ≥ loan_overdue_days, or a
--   due date (as the row gives it, extended or not) more than loan_overdue_days days before the
--   as-of date; a loan without due date is judged by overdue_days alone.
-- Policy: 曲江区 小额贷款逾期风险; 曲江区 四(三) 金融部门数据比对.
-- Reads: as_of, loan_overdue_days.
WITH overdue AS (
    SELECT
        l.*,
        coalesce(l.name || '：', '') || coalesce(l.lender, '') || '小额信贷'
            || coalesce(' ' || printf('%.2f', l.amount) || ' 元', '')
            || '（放款 ' || coalesce(strftime(l.issued_date, '%Y-%m-%d'), '日期不详')
            || '，到期 ' || coalesce(strftime(l.due_date, '%Y-%m-%d'), '日期不详')
            || '，余额 ' || coalesce(printf('%.2f', l.balance) || ' 元', '不详')
            || '，逾期 ' || coalesce(l.overdue_days::VARCHAR, '0') || ' 天'
            || '，状态 ' || coalesce(l.loan_status, '未填') || '）' AS item,
        concat_ws('|', l.id_number, l.lender, l.issued_date, l.due_date, l.balance, l.overdue_days,
                  l.loan_status) AS record_key
    FROM finance_microloans AS l
    WHERE l.id_number IS NOT NULL
      AND coalesce(l.loan_status, '') <> '结清'
      AND (l.balance IS NULL OR l.balance <> 0)
      AND (coalesce(l.overdue_days, 0) >= getvariable('loan_overdue_days')
           OR l.due_date < getvariable('as_of') - getvariable('loan_overdue_days')::INTEGER)
)

SELECT
    h.household_id,
    h.head_id_number AS id_number,
    h.head_name AS name,
    h.county,
    h.township,
    h.village,
    true AS in_roster,
    '金融部门小额信贷逾期：'
        || string_agg(o.item, '；' ORDER BY o.id_number, o.issued_date, o.source_file, o.source_row) AS evidence,
    md5(string_agg(o.record_key, ',' ORDER BY o.record_key)) AS evidence_key
FROM overdue AS o
JOIN roster_persons AS rp USING (id_number)
JOIN households AS h ON h.household_id = rp.household_id
GROUP BY ALL
