//! Timestamps: RFC 3339 and naive local times, and the zone that turns a local time into an instant.
