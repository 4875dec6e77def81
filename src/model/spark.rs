//! Service-neutral description of Spark sessions (Athena for Apache Spark), as the worker, the
//! app and the CLI see them. The Athena connector speaks the service (`athena::spark`); nothing
//! of the SDK leaves it.

/// DPU sizes and idle timeout of a session: a workgroup's defaults, or what a start asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    pub coordinator_dpu: i32,
    pub executor_dpu: i32,
    pub max_concurrent_dpus: i32,
    pub idle_timeout_minutes: i32,
}

impl Default for SessionSettings {
    /// The service's own defaults (1 DPU coordinator and executors, 20 concurrent, 15 minutes).
    fn default() -> Self {
        SessionSettings {
            coordinator_dpu: 1,
            executor_dpu: 1,
            max_concurrent_dpus: 20,
            idle_timeout_minutes: 15,
        }
    }
}

/// One Spark session as the service lists or describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparkSession {
    pub id: String,
    pub workgroup: String,
    /// CREATING, CREATED, IDLE, BUSY, TERMINATING, TERMINATED, DEGRADED or FAILED.
    pub state: String,
    /// Why it is in that state, when the service says.
    pub reason: Option<String>,
    /// When it started, as the service reports it (RFC 3339, UTC).
    pub started: Option<String>,
    /// When it ended (terminated or failed).
    pub ended: Option<String>,
    /// Its DPU sizes and idle timeout, when known.
    pub settings: Option<SessionSettings>,
    /// DPU time used so far (milliseconds), when the service reports it.
    pub dpu_ms: Option<i64>,
    pub description: Option<String>,
    pub engine_version: Option<String>,
}

impl SparkSession {
    /// Whether the session can still run calculations or bill (not ended).
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "TERMINATED" | "FAILED" | "TERMINATING")
    }

    /// Whether it is on its way somewhere (worth following until it settles).
    pub fn is_changing(&self) -> bool {
        matches!(
            self.state.as_str(),
            "CREATING" | "CREATED" | "TERMINATING" | "BUSY"
        )
    }
}

/// What the worker asks of a connection's Spark side.
#[derive(Debug, Clone, PartialEq)]
pub enum SparkOp {
    /// The workgroup's session defaults (its engine configuration).
    Defaults { workgroup: String },
    /// StartSession; `token` is the ClientRequestToken (a retried start never starts twice).
    Start {
        workgroup: String,
        settings: SessionSettings,
        description: Option<String>,
        token: String,
    },
    /// GetSessionStatus (state and DPU figures).
    Status { id: String },
    /// GetSession + GetSessionEndpoint + GetResourceDashboard, as labelled lines.
    Details { id: String },
    /// TerminateSession.
    Terminate { id: String },
}

/// The answer to a [`SparkOp`].
#[derive(Debug, Clone, PartialEq)]
pub enum SparkReply {
    Defaults(SessionSettings),
    /// Start, Status and Terminate answer with the session as it now is.
    Session(SparkSession),
    /// Details: the session and labelled lines (engine version, configuration, notebook
    /// version, monitoring, Spark UI and dashboard links), in display order.
    Details {
        session: SparkSession,
        lines: Vec<(String, String)>,
    },
}

/// DPU time for people: `0.42 DPU·h`, or DPU-seconds while under a hundredth of an hour.
pub fn format_dpu(ms: i64) -> String {
    let hours = ms.max(0) as f64 / 3_600_000.0;
    if hours >= 0.01 {
        format!("{hours:.2} DPU·h")
    } else {
        format!("{:.1} DPU·s", ms.max(0) as f64 / 1000.0)
    }
}
