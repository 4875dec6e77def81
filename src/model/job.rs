//! What is known about a job once a service has reported on it.

/// Statistics a service reports about a job; the fields a service lacks stay `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobStats {
    pub bytes_scanned: Option<u64>,
    pub cost_usd: Option<f64>,
    pub server_id: Option<String>,
    /// Service-specific figures, labelled, in display order: ("engine", "850 ms"), ("dpu", "4").
    pub extra: Vec<(String, String)>,
}
