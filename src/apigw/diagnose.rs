//! API Gateway's own errors (`X-Ca-Error-Code`, `X-Ca-Error-Message`) turned into diagnoses:
//! which setting, in which console, is wrong.
//!
//! Codes are matched exactly where API Gateway documents them, then by family (`T429*`,
//! `A401*`/`A403*`, `D5*`), then by the words of the message, so that undocumented codes and
//! legacy text-only answers still get a useful hint.

const THROTTLED: &str = "API Gateway throttled the call (a throttling policy on the API, app, user or group): lower the probe's rate or samples, or raise the throttling policy's limits.";

/// Legacy gateways answer with a message only. The codes those messages stand for, where the
/// error table has one.
const LEGACY: &[(&str, &str)] = &[
    ("Invalid Domain", "I404DO"),
    ("Invalid Url", "I404NF"),
    ("Invalid HttpMethod", "I405UM"),
    ("Invalid AppKey", "A400IK"),
    ("Invalid AppCode", "A400AC"),
    ("Invalid Signature", "A403IS"),
];

/// The code a legacy (message-only) answer stands for.
pub fn legacy_code(message: &str) -> Option<&'static str> {
    LEGACY
        .iter()
        .find(|(m, _)| message.trim().starts_with(m))
        .map(|(_, code)| *code)
}

/// The hint for a gateway error `code` with its `message` (which may be empty).
pub fn gateway_hint(code: &str, message: &str) -> String {
    if let Some(h) = by_code(code) {
        return h.into();
    }
    if let Some(h) = by_message(message) {
        return h.into();
    }
    by_family(code).into()
}

fn by_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "I404DO" => "The Host header is not a domain of the API group: call the group's VPC second-level domain (<groupId>-<region>-vpc.alicloudapi.com) exactly, with the right group id and region, and make sure the group is on this instance.",
        "I404NF" => "No API matches: check the path, the method and the group's BasePath, and that the API is published to the stage sent in X-Ca-Stage — publish it to RELEASE (线上) in the API Gateway console, or send the stage it is published to (TEST, PRE).",
        "I400SG" => "X-Ca-Stage is not a valid stage: send RELEASE, TEST or PRE (or leave it out for RELEASE).",
        "I403PT" => "The API does not accept this protocol: use http:// or https:// as the API's protocol setting (HTTP/HTTPS) in the API Gateway console allows, or enable the other one there.",
        "I405UM" => "The API does not accept this HTTP method: use the method the API is defined with.",
        "I413RL" => "The request body is larger than the instance accepts: send a smaller body.",
        "I413UL" => "The URL is longer than the instance accepts: shorten the path or query.",
        "I410GG" => "The group is no longer on this instance: check the group's instance in the API Gateway console and the domain you call.",
        "A400IK" => "API Gateway does not know this AppKey: set APIGW_APP_KEY to the AppKey of an app in the same account and region (API Gateway console → Apps).",
        "A400AC" => "API Gateway does not know this AppCode: set APIGW_APPCODE to an AppCode of the app (API Gateway console → Apps → AppCode), and check the API allows AppCode authentication.",
        "A403IS" => "The signature does not match: if the strings to sign are identical the AppSecret is wrong (set APIGW_APP_SECRET to the app's AppSecret); otherwise the line named in the message differs between client and gateway.",
        "D504CO" => "The gateway cannot connect to the backend: the backend's security group must allow the dedicated instance's VPC egress range (e.g. 100.104.x.x/26 on the instance's page) on the backend port, and across regions the return route for that range must exist over CEN; check the backend address in the API's definition.",
        "D504TO" => "The backend did not answer within the API's backend timeout: check the backend's health and load, or raise the API's backend timeout.",
        "B403OD" => "The account is overdue: top up the account that owns the API.",
        _ => return None,
    })
}

fn by_message(message: &str) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    Some(if m.contains("timestamp") {
        "The gateway refused X-Ca-Timestamp: it must be the current time in milliseconds, within 15 minutes of the gateway's clock — check the clock of the machine that signs (NTP)."
    } else if m.contains("nonce") {
        "The gateway refused X-Ca-Nonce: a nonce may be used once within 15 minutes — something replayed the request (a retry that reused the signed headers); sign each request anew."
    } else if m.contains("content-md5") {
        "The Content-MD5 header does not match the body: the body changed after signing, or a proxy rewrote it."
    } else if m.contains("throttled") || m.contains("flow control") {
        THROTTLED
    } else if m.contains("unauthorized") {
        "The app is not authorized for this API: in the API Gateway console authorize the app (APIGW_APP_KEY) for the API on the stage you call."
    } else if m.contains("signature method") {
        "The signature method is not accepted: use HmacSHA256 (default) or HmacSHA1."
    } else {
        return None;
    })
}

fn by_family(code: &str) -> &'static str {
    if code.starts_with("T429") {
        THROTTLED
    } else if code.starts_with("A401") || code.starts_with("A403") {
        "The app is not authorized for this API: in the API Gateway console authorize the app (APIGW_APP_KEY) for the API on the stage you call, and check the API's authentication type."
    } else if code.starts_with('A') {
        "API Gateway refused the app authentication: check APIGW_APP_KEY, APIGW_APP_SECRET or APIGW_APPCODE and the API's authentication type."
    } else if code.starts_with('D') {
        "API Gateway could not get an answer from the backend: check the backend's address, health and security group (the instance's VPC egress range must be allowed)."
    } else {
        "API Gateway rejected the call itself: look the code up in API Gateway's error code table and check the API's settings."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_codes_have_specific_hints() {
        assert!(gateway_hint("I404NF", "").contains("RELEASE"));
        assert!(gateway_hint("D504CO", "").contains("egress range"));
        assert!(gateway_hint("A403IS", "").contains("AppSecret"));
        assert!(gateway_hint("I403PT", "").contains("protocol"));
    }

    #[test]
    fn undocumented_codes_fall_back_to_message_then_family() {
        assert!(gateway_hint("A400XX", "Timestamp Expired").contains("clock"));
        assert!(gateway_hint("A400XX", "Nonce Used").contains("replayed"));
        assert!(gateway_hint("T429AB", "").contains("throttl"));
        assert!(gateway_hint("X", "Throttled by APP Flow Control").contains("throttl"));
        assert!(gateway_hint("A403PR", "").contains("authorize the app"));
        assert!(gateway_hint("Q999ZZ", "").contains("error code table"));
    }

    #[test]
    fn legacy_messages_map_to_codes() {
        assert_eq!(legacy_code("Invalid Domain"), Some("I404DO"));
        assert_eq!(
            legacy_code("Invalid Signature, Server StringToSign:GET#..."),
            Some("A403IS")
        );
        assert_eq!(legacy_code("Timestamp Expired"), None);
    }
}
