-- Views for analysts: the rows of the latest completed run (outputs.md).
-- "Latest" = the completed run with the greatest as-of date, the most recently finished among equals.

CREATE OR REPLACE VIEW latest_run AS
SELECT run_id, as_of_date, finished_at
FROM runs
WHERE status = 'completed'
ORDER BY as_of_date DESC, finished_at DESC
LIMIT 1;
COMMENT ON VIEW latest_run IS '最新运行 The latest completed run.';

CREATE OR REPLACE VIEW latest_warnings AS
SELECT w.* FROM warnings AS w JOIN latest_run USING (run_id);
COMMENT ON VIEW latest_warnings IS '最新预警 warnings of the latest completed run.';

CREATE OR REPLACE VIEW latest_logic_errors AS
SELECT e.* FROM logic_errors AS e JOIN latest_run USING (run_id);
COMMENT ON VIEW latest_logic_errors IS '最新逻辑错误 logic_errors of the latest completed run.';
