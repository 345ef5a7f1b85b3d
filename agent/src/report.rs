//! Errors as the user reads them: one line, the error and its causes, outermost first.

/// `error` and its causes on one line, joined by `: `, each said once: a message that already quotes its
/// cause is not followed by it again, and a cause that only wraps another (hyper's "client error
/// (Connect)", reqwest's "error sending request") is followed by the one that says what happened.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        next = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Wraps(&'static str, #[source] Option<Box<Wraps>>);

    #[test]
    fn causes_in_order_each_once() {
        let inner = Wraps("connection refused", None);
        let quoting = Wraps("connect failed: connection refused", Some(Box::new(inner)));
        assert_eq!(
            one_line(&Wraps("cannot reach the node", Some(Box::new(quoting)))),
            "cannot reach the node: connect failed: connection refused"
        );
        let silent = Wraps("client error (Connect)", Some(Box::new(Wraps("connection refused", None))));
        assert_eq!(one_line(&silent), "client error (Connect): connection refused");
    }
}
