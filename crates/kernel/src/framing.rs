//! The gRPC framing of request bodies, checked as tonic reads them. The servers' codec
//! (`mm_proto::codec`) answers a message that does not decode; this layer answers the frame
//! around it: a body that ends inside a frame, a frame with a compression flag that is neither 0
//! nor 1, or a unary request with no message at all. tonic answers those INTERNAL; they are the
//! caller's fault, so they fail as `mm_proto::codec::malformed` (INVALID_ARGUMENT,
//! `MALFORMED_REQUEST`).
//!
//! The check rides on the body: nothing is buffered and nothing is read before tonic reads it.
//! The first broken frame turns into a body error carrying the status, which tonic hands back to
//! the caller as it is (a body error that is a `Status` keeps its code).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Request;
use http_body::Frame;
use mm_proto::codec::malformed;
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

const HEADER: usize = 5;

/// Checks the framing of every gRPC request body (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct GrpcFramingLayer;

impl<S> Layer<S> for GrpcFramingLayer {
    type Service = GrpcFraming<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcFraming { inner }
    }
}

/// See [`GrpcFramingLayer`].
#[derive(Clone, Debug)]
pub struct GrpcFraming<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for GrpcFraming<S>
where
    S: Service<Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // Every RPC of ours takes exactly one request message (mm-proto's build refuses client
        // streaming); other services (reflection streams requests) may send none.
        let one_message = mm_proto::METHODS.iter().any(|m| m.path == req.uri().path());
        self.inner.call(req.map(|body| checked(body, one_message)))
    }
}

/// `body` with its gRPC framing checked as it is read; `one_message`: refuse a body that ends
/// before its first message.
pub fn checked(body: Body, one_message: bool) -> Body {
    Body::new(Checked {
        inner: body,
        framing: Framing::default(),
        one_message,
        done: false,
    })
}

struct Checked {
    inner: Body,
    framing: Framing,
    one_message: bool,
    done: bool,
}

impl http_body::Body for Checked {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        let this = &mut *self;
        let verdict = match &polled {
            Some(Ok(frame)) => match frame.data_ref() {
                Some(data) => this.framing.read(data),
                None => Ok(()),
            },
            Some(Err(_)) => Ok(()),
            None => this.framing.end(this.one_message),
        };
        match verdict {
            Ok(()) => {
                this.done = polled.is_none();
                Poll::Ready(polled)
            }
            Err(status) => {
                this.done = true;
                Poll::Ready(Some(Err(status)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

/// Where the reader is in the stream of length-prefixed messages.
#[derive(Debug)]
enum Framing {
    /// Reading a 5-byte header (compression flag, big-endian length); `have` bytes read so far.
    Header {
        buf: [u8; HEADER],
        have: usize,
        messages: usize,
    },
    /// Inside a message, `left` bytes to go.
    Message { left: usize, messages: usize },
}

impl Default for Framing {
    fn default() -> Self {
        Self::Header {
            buf: [0; HEADER],
            have: 0,
            messages: 0,
        }
    }
}

impl Framing {
    fn read(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            match self {
                Self::Header {
                    buf,
                    have,
                    messages,
                } => {
                    let n = (HEADER - *have).min(data.len());
                    buf[*have..*have + n].copy_from_slice(&data[..n]);
                    *have += n;
                    data = &data[n..];
                    if *have == HEADER {
                        if buf[0] > 1 {
                            return Err(malformed(format!(
                                "a message's compression flag is {}, not 0 or 1",
                                buf[0]
                            )));
                        }
                        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
                        let messages = *messages + 1;
                        *self = match usize::try_from(len) {
                            Ok(0) => Self::Header {
                                buf: [0; HEADER],
                                have: 0,
                                messages,
                            },
                            Ok(left) => Self::Message { left, messages },
                            Err(_) => return Err(malformed("a message is too long")),
                        };
                    }
                }
                Self::Message { left, messages } => {
                    let n = (*left).min(data.len());
                    *left -= n;
                    data = &data[n..];
                    if *left == 0 {
                        *self = Self::Header {
                            buf: [0; HEADER],
                            have: 0,
                            messages: *messages,
                        };
                    }
                }
            }
        }
        Ok(())
    }

    fn end(&self, one_message: bool) -> Result<(), Status> {
        match self {
            Self::Header {
                have: 0, messages, ..
            } => {
                if one_message && *messages == 0 {
                    Err(malformed("the request carries no message"))
                } else {
                    Ok(())
                }
            }
            Self::Header { .. } | Self::Message { .. } => {
                Err(malformed("the request ends inside a message"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(flag: u8, msg: &[u8]) -> Vec<u8> {
        let mut out = vec![flag];
        out.extend_from_slice(&u32::try_from(msg.len()).unwrap().to_be_bytes());
        out.extend_from_slice(msg);
        out
    }

    /// Feeds `bytes` in chunks of `chunk` and ends the body.
    fn verdict(bytes: &[u8], chunk: usize, one_message: bool) -> Result<(), Status> {
        let mut f = Framing::default();
        for part in bytes.chunks(chunk.max(1)) {
            f.read(part)?;
        }
        f.end(one_message)
    }

    #[test]
    fn accepts_whole_messages_however_the_body_is_cut() {
        let mut two = frame(0, b"hello");
        two.extend(frame(0, b""));
        for chunk in 1..=two.len() {
            assert!(verdict(&two, chunk, true).is_ok(), "chunk {chunk}");
        }
    }

    #[test]
    fn refuses_a_body_that_ends_inside_a_header_or_a_message() {
        let whole = frame(0, b"hello");
        for cut in 1..whole.len() {
            let err = verdict(&whole[..cut], 2, false).unwrap_err();
            assert_eq!(err.code(), tonic::Code::InvalidArgument, "cut at {cut}");
        }
    }

    #[test]
    fn refuses_an_unknown_compression_flag() {
        let err = verdict(&frame(7, b"x"), 64, false).unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("compression flag is 7"));
    }

    #[test]
    fn an_empty_body_is_refused_only_where_a_message_is_required() {
        assert_eq!(
            verdict(&[], 1, true).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
        assert!(verdict(&[], 1, false).is_ok());
    }
}
