//! Reading a calculation's output files (stdout, stderr, the result) from S3, up to a cap: a
//! file, or every object under a folder URI (`s3://bucket/prefix/`) in key order.

use crate::connectors::aws;

/// Objects read from a result folder at most (a Spark job writes one per partition).
const FOLDER_OBJECTS: i32 = 1000;

/// What was read.
#[derive(Debug, Default)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The object's `Content-Type` (the first object's, for a folder).
    pub content_type: Option<String>,
    /// More was there than the cap allowed.
    pub cut: bool,
}

/// `s3://bucket/key` → (bucket, key); the key may be empty or end with `/` (a folder).
pub fn parse_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri
        .strip_prefix("s3://")
        .or_else(|| uri.strip_prefix("s3a://"))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, key))
}

/// Reads `uri` (a file, or the objects of a folder) up to `cap` bytes. A file URI that names
/// no object is read as the folder of that name (the service documents `ResultS3Uri` as "the
/// location of the folder for the calculation results").
pub async fn read(s3: &aws_sdk_s3::Client, uri: &str, cap: usize) -> Result<Fetched, String> {
    let (bucket, key) = parse_uri(uri).ok_or_else(|| format!("not an S3 URI: `{uri}`"))?;
    if key.is_empty() || key.ends_with('/') {
        return read_folder(s3, bucket, key, cap).await;
    }
    let mut fetched = Fetched::default();
    match read_object(s3, bucket, key, cap, &mut fetched).await {
        Ok(()) => Ok(fetched),
        Err(ReadError::Missing(e)) => {
            match read_folder(s3, bucket, &format!("{key}/"), cap).await {
                Ok(f) if !f.bytes.is_empty() => Ok(f),
                _ => Err(e),
            }
        }
        Err(ReadError::Failed(e)) => Err(e),
    }
}

/// The objects under `prefix`, in key order, up to `cap` bytes in all.
async fn read_folder(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    cap: usize,
) -> Result<Fetched, String> {
    let list = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .max_keys(FOLDER_OBJECTS)
        .send()
        .await
        .map_err(|e| {
            format!(
                "listing s3://{bucket}/{prefix}: {}",
                aws::describe_sdk_error("S3", &e)
            )
        })?;
    let mut keys: Vec<&str> = list
        .contents()
        .iter()
        .filter(|o| o.size().unwrap_or(0) > 0)
        .filter_map(|o| o.key())
        // Markers and checksums Spark leaves next to the data (`_SUCCESS`, `.part-0.crc`).
        .filter(|k| {
            let name = k.rsplit('/').next().unwrap_or(k);
            !name.starts_with('_') && !name.starts_with('.')
        })
        .collect();
    keys.sort_unstable();
    let mut fetched = Fetched::default();
    for k in keys {
        if fetched.cut {
            break;
        }
        read_object(s3, bucket, k, cap, &mut fetched)
            .await
            .map_err(ReadError::text)?;
    }
    fetched.cut |= list.is_truncated().unwrap_or(false);
    Ok(fetched)
}

/// Why an object was not read: it is not there, or something else.
enum ReadError {
    Missing(String),
    Failed(String),
}

impl ReadError {
    fn text(self) -> String {
        match self {
            ReadError::Missing(t) | ReadError::Failed(t) => t,
        }
    }
}

/// Appends object `key` to `into`, stopping at `cap` bytes in all.
async fn read_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    cap: usize,
    into: &mut Fetched,
) -> Result<(), ReadError> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            let text = format!("s3://{bucket}/{key}: {}", aws::describe_sdk_error("S3", &e));
            match e.as_service_error() {
                Some(se) if se.is_no_such_key() => ReadError::Missing(text),
                _ => ReadError::Failed(text),
            }
        })?;
    if into.content_type.is_none() {
        into.content_type = out.content_type().map(str::to_string);
    }
    let mut body = out.body;
    // Streamed, so a huge object is cut off without being downloaded whole.
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ReadError::Failed(format!("reading s3://{bucket}/{key}: {e}")))?;
        let room = cap.saturating_sub(into.bytes.len());
        if chunk.len() > room {
            into.bytes.extend_from_slice(&chunk[..room]);
            into.cut = true;
            return Ok(());
        }
        into.bytes.extend_from_slice(&chunk);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_into_bucket_and_key() {
        assert_eq!(parse_uri("s3://b/k/x.json"), Some(("b", "k/x.json")));
        assert_eq!(parse_uri("s3://b/dir/"), Some(("b", "dir/")));
        assert_eq!(parse_uri("s3://b"), Some(("b", "")));
        assert_eq!(parse_uri("s3:///k"), None);
        assert_eq!(parse_uri("https://b/k"), None);
    }
}
