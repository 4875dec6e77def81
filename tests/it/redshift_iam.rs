//! IAM sign-in to Redshift (`quarry::connectors::redshift_pg::iam`): temporary database
//! credentials from moto's `GetClusterCredentials`, and from `fake_redshift_iam` for the calls
//! moto lacks (`GetClusterCredentialsWithIAM`, Redshift Serverless `GetCredentials`); caching,
//! renewal before expiry, invalidation and error messages.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use quarry::connectors::ConnectorError;
use quarry::connectors::redshift_pg::iam::{DbCredentials, IamAuth, IamTarget};
use serde_json::Value;

use crate::common::test_sdk_config;
use crate::fake_redshift_iam::{FakeRedshiftIam, parse_form};
use crate::moto::{MotoServer, http_request};

const CLUSTER: &str = "quarry-iam";
const WORKGROUP: &str = "quarry-wg";
const DATABASE: &str = "dev";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

fn cluster(db_user: Option<&str>, db_groups: &[&str], auto_create: bool) -> IamTarget {
    IamTarget::Cluster {
        cluster_identifier: CLUSTER.to_string(),
        db_user: db_user.map(str::to_string),
        db_groups: db_groups.iter().map(|g| g.to_string()).collect(),
        auto_create,
    }
}

fn serverless() -> IamTarget {
    IamTarget::Serverless {
        workgroup_name: WORKGROUP.to_string(),
    }
}

/// `credentials()`, panicking with the error.
#[track_caller]
fn credentials(rt: &tokio::runtime::Runtime, auth: &IamAuth) -> DbCredentials {
    rt.block_on(auth.credentials())
        .unwrap_or_else(|e| panic!("IAM sign-in failed: {e}"))
}

/// `credentials()` that must fail: the error.
#[track_caller]
fn failure(rt: &tokio::runtime::Runtime, auth: &IamAuth) -> ConnectorError {
    match rt.block_on(auth.credentials()) {
        Ok(c) => panic!("IAM sign-in succeeded unexpectedly: {c:?}"),
        Err(e) => e,
    }
}

/// Panics unless `expires` lies about `seconds` after `asked` (give or take the test's pace).
#[track_caller]
fn assert_expires_in(creds: &DbCredentials, asked: SystemTime, seconds: u64) {
    let earliest = asked + Duration::from_secs(seconds) - Duration::from_secs(5);
    let latest = SystemTime::now() + Duration::from_secs(seconds) + Duration::from_secs(5);
    assert!(
        creds.expires >= earliest && creds.expires <= latest,
        "expected an expiry about {seconds} s from now: {creds:?}"
    );
}

// --- moto ------------------------------------------------------------------------------------

fn moto_addr(moto: &MotoServer) -> SocketAddr {
    let url = moto.url();
    url.trim_start_matches("http://")
        .parse()
        .unwrap_or_else(|e| panic!("moto's address {url}: {e}"))
}

/// Seeds moto's random generator: the same seed and the same requests give the same password.
#[track_caller]
fn seed(moto: &MotoServer, seed: u64) {
    let path = format!("/moto-api/seed?a={seed}");
    let resp = http_request(moto_addr(moto), "POST", &path, &[], b"")
        .unwrap_or_else(|e| panic!("seeding moto failed: {e}"));
    assert_eq!(resp.status, 200, "seeding moto failed: {resp:?}");
}

/// The form parameters of every `action` request moto's recorder saw, in order.
#[track_caller]
fn recorded(moto: &MotoServer, action: &str) -> Vec<BTreeMap<String, String>> {
    let resp = http_request(
        moto_addr(moto),
        "GET",
        "/moto-api/recorder/download-recording",
        &[],
        b"",
    )
    .unwrap_or_else(|e| panic!("downloading moto's recording failed: {e}"));
    assert_eq!(resp.status, 200, "downloading moto's recording: {resp:?}");
    resp.body
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|entry| {
            let body = entry.get("body")?.as_str()?;
            let body = if entry.get("body_encoded") == Some(&Value::Bool(true)) {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .ok()?;
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                body.to_string()
            };
            Some(parse_form(&body))
        })
        .filter(|params| params.get("Action").map(String::as_str) == Some(action))
        .collect()
}

async fn create_cluster(sdk: &aws_config::SdkConfig, name: &str) {
    aws_sdk_redshift::Client::new(sdk)
        .create_cluster()
        .cluster_identifier(name)
        .node_type("ra3.xlplus")
        .master_username("admin")
        .master_user_password("Admin-Pa55word")
        .db_name(DATABASE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateCluster on moto failed: {e:?}"));
}

/// Names of form fields, for a readable assertion.
fn param<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str)
}

/// moto's GetClusterCredentials: the credentials are the ones moto made (re-seeding moto and
/// asking it the same question directly gives the same password), the request carried the
/// target, user, database, groups and AutoCreate, and a second call is answered from the cache.
#[test]
fn moto_get_cluster_credentials_are_what_the_service_made_and_are_cached() {
    let moto = MotoServer::start();
    let rt = runtime();
    let sdk = test_sdk_config(&moto.url());
    rt.block_on(create_cluster(&sdk, CLUSTER));

    let auth = IamAuth::new(
        &sdk,
        cluster(Some("alice"), &["analysts", "etl"], true),
        DATABASE.into(),
    );
    seed(&moto, 42);
    let asked = SystemTime::now();
    let first = credentials(&rt, &auth);
    // The service prefixes `IAMA:` when AutoCreate is true (`IAM:` otherwise).
    assert_eq!(first.user, "IAMA:alice");
    assert_eq!(first.password.len(), 32, "{:?}", first.password);
    assert_expires_in(&first, asked, 900);
    assert_eq!(auth.fetches(), 1);

    let sent = recorded(&moto, "GetClusterCredentials");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let sent = &sent[0];
    assert_eq!(param(sent, "ClusterIdentifier"), Some(CLUSTER), "{sent:?}");
    assert_eq!(param(sent, "DbUser"), Some("alice"), "{sent:?}");
    assert_eq!(param(sent, "DbName"), Some(DATABASE), "{sent:?}");
    assert_eq!(
        param(sent, "DbGroups.DbGroup.1"),
        Some("analysts"),
        "{sent:?}"
    );
    assert_eq!(param(sent, "DbGroups.DbGroup.2"), Some("etl"), "{sent:?}");
    assert_eq!(param(sent, "AutoCreate"), Some("true"), "{sent:?}");
    assert_eq!(param(sent, "DurationSeconds"), Some("900"), "{sent:?}");

    // Within validity: the same credentials, no second request.
    let second = credentials(&rt, &auth);
    assert_eq!(
        (&second.user, &second.password, second.expires),
        (&first.user, &first.password, first.expires)
    );
    assert_eq!(auth.fetches(), 1);
    assert_eq!(recorded(&moto, "GetClusterCredentials").len(), 1);

    // The same seed and the same question asked directly: moto makes the same password again,
    // so the one IamAuth returned is the service's, for this user and these options.
    seed(&moto, 42);
    let direct = rt
        .block_on(
            aws_sdk_redshift::Client::new(&sdk)
                .get_cluster_credentials()
                .cluster_identifier(CLUSTER)
                .db_user("alice")
                .db_name(DATABASE)
                .db_groups("analysts")
                .db_groups("etl")
                .auto_create(true)
                .duration_seconds(900)
                .send(),
        )
        .unwrap_or_else(|e| panic!("direct GetClusterCredentials failed: {e:?}"));
    assert_eq!(direct.db_user(), Some(first.user.as_str()));
    assert_eq!(direct.db_password(), Some(first.password.as_str()));
}

/// Without groups and AutoCreate, none are sent and moto answers with the `IAM:` user.
#[test]
fn moto_get_cluster_credentials_without_groups_sends_none() {
    let moto = MotoServer::start();
    let rt = runtime();
    let sdk = test_sdk_config(&moto.url());
    rt.block_on(create_cluster(&sdk, CLUSTER));

    let auth = IamAuth::new(&sdk, cluster(Some("bob"), &[], false), DATABASE.into());
    let creds = credentials(&rt, &auth);
    assert_eq!(creds.user, "IAM:bob");
    assert!(!creds.password.is_empty());

    let sent = recorded(&moto, "GetClusterCredentials");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        !sent[0].keys().any(|k| k.starts_with("DbGroups")),
        "{sent:?}"
    );
    assert_eq!(param(&sent[0], "AutoCreate"), Some("false"), "{sent:?}");
}

/// moto's ClusterNotFound: the message names the call, the cluster, the service's message and
/// what to check; it is a configuration error.
#[test]
fn moto_unknown_cluster_says_which_call_failed_and_what_to_check() {
    let moto = MotoServer::start();
    let rt = runtime();
    let sdk = test_sdk_config(&moto.url());

    let auth = IamAuth::new(&sdk, cluster(Some("alice"), &[], false), DATABASE.into());
    let err = failure(&rt, &auth);
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Config(_)), "{err:?}");
    for part in [
        "GetClusterCredentials",
        "cluster `quarry-iam`",
        "`alice`",
        "ClusterNotFound",
        "Cluster quarry-iam not found",
        "cluster_identifier",
        "us-east-1",
    ] {
        assert!(text.contains(part), "`{part}` missing in: {text}");
    }
    assert_eq!(auth.fetches(), 1);
}

// --- the fake (calls moto lacks) ----------------------------------------------------------------

/// GetClusterCredentialsWithIAM (a cluster without a database user) and Serverless
/// GetCredentials hand out the fake's credentials, asked for with the right parameters.
#[test]
fn with_iam_and_serverless_hand_out_the_services_credentials() {
    let fake = FakeRedshiftIam::start("IAMR:analyst", "Fake-Pa55-one");
    let rt = runtime();
    let sdk = test_sdk_config(&fake.url());

    let auth = IamAuth::new(&sdk, cluster(None, &[], false), DATABASE.into());
    let asked = SystemTime::now();
    let creds = credentials(&rt, &auth);
    assert_eq!(
        (creds.user.as_str(), creds.password.as_str()),
        ("IAMR:analyst", "Fake-Pa55-one")
    );
    assert_expires_in(&creds, asked, 900);
    let calls = fake.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].op, "GetClusterCredentialsWithIAM");
    let expected: BTreeMap<String, String> = [
        ("ClusterIdentifier", CLUSTER),
        ("DbName", DATABASE),
        ("DurationSeconds", "900"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(calls[0].params, expected);

    fake.set_credentials("IAM:tester", "Fake-Pa55-two");
    let auth = IamAuth::new(&sdk, serverless(), DATABASE.into());
    let asked = SystemTime::now();
    let creds = credentials(&rt, &auth);
    assert_eq!(
        (creds.user.as_str(), creds.password.as_str()),
        ("IAM:tester", "Fake-Pa55-two")
    );
    assert_expires_in(&creds, asked, 900);
    let calls = fake.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1].op, "GetCredentials");
    assert_eq!(calls[1].param("workgroupName"), Some(WORKGROUP));
    assert_eq!(calls[1].param("dbName"), Some(DATABASE));
    assert_eq!(calls[1].param("durationSeconds"), Some("900"));
}

/// Credentials expiring within a minute are renewed by the next call; `invalidate` forces a
/// fetch even for fresh ones.
#[test]
fn credentials_expiring_within_a_minute_are_renewed_and_invalidate_forces_a_fetch() {
    let fake = FakeRedshiftIam::start("IAM:alice", "first");
    fake.set_lifetime(30);
    let rt = runtime();
    let sdk = test_sdk_config(&fake.url());
    let auth = IamAuth::new(&sdk, cluster(Some("alice"), &[], false), DATABASE.into());

    let asked = SystemTime::now();
    let first = credentials(&rt, &auth);
    assert_eq!(first.password, "first");
    assert_expires_in(&first, asked, 30);
    assert_eq!(auth.fetches(), 1);

    fake.set_credentials("IAM:alice", "second");
    fake.set_lifetime(900);
    let second = credentials(&rt, &auth);
    assert_eq!(second.password, "second");
    assert_eq!(auth.fetches(), 2);
    // Fresh now: kept.
    assert_eq!(credentials(&rt, &auth).password, "second");
    assert_eq!(auth.fetches(), 2);

    fake.set_credentials("IAM:alice", "third");
    rt.block_on(auth.invalidate());
    assert_eq!(credentials(&rt, &auth).password, "third");
    assert_eq!(auth.fetches(), 3);
    assert_eq!(fake.count("GetClusterCredentials"), 3);

    // Serverless credentials are renewed the same way.
    fake.set_lifetime(0);
    let auth = IamAuth::new(&sdk, serverless(), DATABASE.into());
    credentials(&rt, &auth);
    credentials(&rt, &auth);
    assert_eq!(auth.fetches(), 2);
    assert_eq!(fake.count("GetCredentials"), 2);
}

/// A renewal that fails while the held credentials are still valid (inside the margin) hands
/// out the held ones; once they have expired, the failure is reported.
#[test]
fn a_failed_renewal_falls_back_to_still_valid_credentials_only() {
    let fake = FakeRedshiftIam::start("IAM:alice", "held");
    fake.set_lifetime(30);
    let rt = runtime();
    let sdk = test_sdk_config(&fake.url());
    let auth = IamAuth::new(&sdk, cluster(Some("alice"), &[], false), DATABASE.into());
    assert_eq!(credentials(&rt, &auth).password, "held");

    fake.fail_with("InvalidClusterState", "try again");
    assert_eq!(credentials(&rt, &auth).password, "held");
    assert_eq!(auth.fetches(), 2);

    rt.block_on(auth.invalidate());
    let err = failure(&rt, &auth).to_string();
    assert!(err.contains("try again"), "{err}");
}

/// Callers arriving while a fetch is in flight wait for it instead of asking again.
#[test]
fn concurrent_callers_share_one_fetch() {
    let fake = FakeRedshiftIam::start("IAM:alice", "shared");
    fake.set_delay(Duration::from_millis(300));
    let rt = runtime();
    let sdk = test_sdk_config(&fake.url());
    let auth = Arc::new(IamAuth::new(
        &sdk,
        cluster(Some("alice"), &[], false),
        DATABASE.into(),
    ));
    let passwords = rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let auth = Arc::clone(&auth);
                tokio::spawn(async move { auth.credentials().await.map(|c| c.password) })
            })
            .collect();
        let mut passwords = Vec::new();
        for task in tasks {
            let outcome = task.await.expect("the task ran");
            passwords.push(outcome.unwrap_or_else(|e| panic!("IAM sign-in failed: {e}")));
        }
        passwords
    });
    assert!(passwords.iter().all(|p| p == "shared"), "{passwords:?}");
    assert_eq!(auth.fetches(), 1);
    assert_eq!(fake.count("GetClusterCredentials"), 1);
}

/// The service's refusals name the call, the target, the service's message and what to check.
#[test]
fn refusals_say_which_call_failed_and_what_to_check() {
    let fake = FakeRedshiftIam::start("IAMR:analyst", "finally");
    let rt = runtime();
    let sdk = test_sdk_config(&fake.url());

    let denied = "User: arn:aws:iam::123456789012:user/tester is not authorized to perform: \
                  redshift:GetClusterCredentialsWithIAM on resource: \
                  arn:aws:redshift:us-east-1:123456789012:dbname:quarry-iam/dev";
    fake.fail_with("AccessDenied", denied);
    let auth = IamAuth::new(&sdk, cluster(None, &[], false), DATABASE.into());
    let err = failure(&rt, &auth);
    assert!(matches!(err, ConnectorError::Config(_)), "{err:?}");
    let text = err.to_string();
    for part in [
        "IAM sign-in to cluster `quarry-iam` as your IAM identity failed",
        "GetClusterCredentialsWithIAM: AccessDenied",
        denied,
        "may call redshift:GetClusterCredentialsWithIAM",
    ] {
        assert!(text.contains(part), "`{part}` missing in: {text}");
    }

    fake.fail_with(
        "ResourceNotFoundException",
        "Workgroup quarry-wg does not exist.",
    );
    let auth = IamAuth::new(&sdk, serverless(), DATABASE.into());
    let text = failure(&rt, &auth).to_string();
    for part in [
        "workgroup `quarry-wg`",
        "GetCredentials: ResourceNotFoundException",
        "Workgroup quarry-wg does not exist.",
        "check `workgroup_name`",
    ] {
        assert!(text.contains(part), "`{part}` missing in: {text}");
    }

    fake.fail_with("AccessDeniedException", "not authorized");
    let auth = IamAuth::new(&sdk, serverless(), DATABASE.into());
    let text = failure(&rt, &auth).to_string();
    assert!(
        text.contains("may call redshift-serverless:GetCredentials"),
        "{text}"
    );
    assert_eq!(auth.fetches(), 1);

    // A refusal is not kept: once the service agrees, the next call signs in.
    fake.succeed();
    assert_eq!(credentials(&rt, &auth).password, "finally");
    assert_eq!(auth.fetches(), 2);
}

/// No service at the endpoint: a query error saying which call could not be made.
#[test]
fn an_unreachable_endpoint_is_reported_as_such() {
    let port = crate::moto::free_port();
    let rt = runtime();
    let sdk = test_sdk_config(&format!("http://127.0.0.1:{port}"));
    let auth = IamAuth::new(&sdk, cluster(Some("alice"), &[], false), DATABASE.into());
    let err = failure(&rt, &auth);
    assert!(matches!(err, ConnectorError::Query(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("GetClusterCredentials"), "{text}");
    assert!(text.contains("cannot reach Redshift"), "{text}");
}

/// Creates (or resets) a login role on the test PostgreSQL: the temporary user an IAM call
/// hands out, with the password it hands out.
fn login_role(user: &str, password: &str) {
    let pg = crate::postgres::shared();
    let quoted = user.replace('"', "\"\"");
    let literal = password.replace('\'', "''");
    pg.client("postgres")
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE \"{quoted}\" LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\
             ALTER ROLE \"{quoted}\" LOGIN PASSWORD '{literal}'"
        ))
        .unwrap_or_else(|e| panic!("create role {user}: {e}"));
}

/// `quarry run -c rs "SELECT current_user"` on an IAM connection (`target` lines) through the
/// AWS endpoint `endpoint`, to a new database of the test PostgreSQL.
fn run_iam(endpoint: &str, target: &str) -> crate::common::Output {
    let pg = crate::postgres::shared();
    let db = pg.create_database();
    let sandbox = crate::common::Sandbox::new();
    let config = sandbox.config(
        "rs.toml",
        &format!(
            "[[connection]]\nname = \"rs\"\nkind = \"redshift\"\nhost = \"127.0.0.1\"\nport = {}\n\
             database = \"{db}\"\nsslmode = \"disable\"\niam = true\nregion = \"us-east-1\"\n\
             endpoint_url = \"{endpoint}\"\n{target}",
            pg.port()
        ),
    );
    let mut cmd = sandbox.command([
        "--config",
        config.to_str().expect("UTF-8 path"),
        "run",
        "-c",
        "rs",
        "--format",
        "csv",
        "SELECT current_user",
    ]);
    cmd.envs(sandbox.aws_env());
    let out = crate::common::run_command(&mut cmd, Duration::from_secs(120));
    out.assert_no_panic();
    out
}

/// End to end through the binary: the user and password the IAM call handed out are the ones
/// the PostgreSQL login used (the server knows only those) — for a cluster without a database
/// user (GetClusterCredentialsWithIAM) and a serverless workgroup (GetCredentials).
#[test]
fn the_binary_signs_in_with_the_temporary_credentials_of_the_fake() {
    let fake = FakeRedshiftIam::start("IAMR:quarry-tester", "tmp-Pa55-one");
    login_role("IAMR:quarry-tester", "tmp-Pa55-one");
    let out = run_iam(
        &fake.url(),
        &format!("cluster_identifier = \"{CLUSTER}\"\n"),
    );
    out.assert_ok();
    assert_eq!(
        out.lines().get(1).copied(),
        Some("IAMR:quarry-tester"),
        "{out}"
    );
    assert_eq!(fake.count("GetClusterCredentialsWithIAM"), 1);

    fake.set_credentials("IAMR:quarry-serverless", "tmp-Pa55-two");
    login_role("IAMR:quarry-serverless", "tmp-Pa55-two");
    let out = run_iam(&fake.url(), &format!("workgroup_name = \"{WORKGROUP}\"\n"));
    out.assert_ok();
    assert_eq!(
        out.lines().get(1).copied(),
        Some("IAMR:quarry-serverless"),
        "{out}"
    );
    assert_eq!(fake.count("GetCredentials"), 1);

    // Credentials the server does not accept: the sign-in is refused and says so.
    fake.set_credentials("IAMR:quarry-serverless", "not-the-password");
    let out = run_iam(&fake.url(), &format!("workgroup_name = \"{WORKGROUP}\"\n"));
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("refused"), "{out}");
    assert!(!out.stderr.contains("not-the-password"), "{out}");
}

/// End to end against moto: moto's GetClusterCredentials makes a random password; seeded, it
/// makes the same one again, so the test learns it first, gives it to a PostgreSQL role, seeds
/// again, and the binary signs in with what moto hands it.
#[test]
fn the_binary_signs_in_with_motos_cluster_credentials() {
    let moto = MotoServer::start();
    let rt = runtime();
    let sdk = test_sdk_config(&moto.url());
    rt.block_on(create_cluster(&sdk, CLUSTER));
    seed(&moto, 7);
    let expected = rt
        .block_on(
            aws_sdk_redshift::Client::new(&sdk)
                .get_cluster_credentials()
                .cluster_identifier(CLUSTER)
                .db_user("quarry-alice")
                .db_name("ignored-by-moto")
                .duration_seconds(900)
                .send(),
        )
        .unwrap_or_else(|e| panic!("GetClusterCredentials: {e:?}"));
    let user = expected.db_user().expect("user").to_string();
    assert_eq!(user, "IAM:quarry-alice");
    login_role(&user, expected.db_password().expect("password"));
    seed(&moto, 7);
    let out = run_iam(
        &moto.url(),
        &format!("cluster_identifier = \"{CLUSTER}\"\nuser = \"quarry-alice\"\n"),
    );
    out.assert_ok();
    assert_eq!(
        out.lines().get(1).copied(),
        Some("IAM:quarry-alice"),
        "{out}"
    );
    assert_eq!(recorded(&moto, "GetClusterCredentials").len(), 2);
}
