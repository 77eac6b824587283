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

CREATE OR REPLACE VIEW latest_source_checks AS
SELECT c.* FROM source_checks AS c JOIN latest_run USING (run_id);
COMMENT ON VIEW latest_source_checks IS '最新数据质量检查 source_checks of the latest completed run.';

CREATE OR REPLACE VIEW latest_rejects AS
SELECT r.* FROM rejects AS r JOIN latest_run USING (run_id);
COMMENT ON VIEW latest_rejects IS '最新拒收记录 rejects of the latest completed run.';

CREATE OR REPLACE VIEW latest_input_files AS
SELECT f.* FROM input_files AS f JOIN latest_run USING (run_id);
COMMENT ON VIEW latest_input_files IS '最新输入文件 input_files of the latest completed run: what was read, skipped, and why.';

-- One row per run and stage, for watching where the night goes.
CREATE OR REPLACE VIEW run_stage_seconds AS
SELECT r.run_id, r.as_of_date, r.status, s.key AS stage, s.value::DOUBLE AS seconds
FROM runs AS r, json_each(r.stage_seconds) AS s;
COMMENT ON VIEW run_stage_seconds IS '阶段耗时 Seconds per stage of every run (from runs.stage_seconds).';
COMMENT ON COLUMN run_stage_seconds.run_id IS '运行编号 The run.';
COMMENT ON COLUMN run_stage_seconds.as_of_date IS '基准日期 The run''s as-of date.';
COMMENT ON COLUMN run_stage_seconds.status IS '状态 completed / failed.';
COMMENT ON COLUMN run_stage_seconds.stage IS '阶段 Stage of the flow (ingest, ingest:<folder>, source_checks, screening, logic, reports, ...).';
COMMENT ON COLUMN run_stage_seconds.seconds IS '耗时 Seconds the stage took.';
