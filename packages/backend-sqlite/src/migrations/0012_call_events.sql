-- Calls (StepCall events) are read by time for the call and AI-usage analytics: a partial index over the events table
-- holds only them, so a window's calls are one range scan however many other events the window has. An index only:
-- older code can still read and write.
CREATE INDEX IF NOT EXISTS events_calls_by_time ON events (timestamp_us) WHERE type = 'StepCall';
