//! The codec of every generated *server* (build.rs points the server code at [`ServerCodec`];
//! clients keep tonic-prost's). It is tonic-prost's codec with one difference: a request that
//! does not decode (bytes that are not protobuf, a string that is not UTF-8, a message cut short,
//! nesting past prost's recursion limit) is the caller's fault, so it answers INVALID_ARGUMENT
//! with google.rpc.ErrorInfo reason `MALFORMED_REQUEST` instead of tonic-prost's INTERNAL. The
//! decision is made on the typed `prost::DecodeError`, where it happens, not by reading messages.
//!
//! Clients keep INTERNAL: an answer they cannot decode is the server's fault.
//!
//! Hand-written, unlike the rest of the crate: it is how the generated servers decode, and the
//! generated code names it, so it must live here.

use std::collections::HashMap;
use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder, Streaming};
use tonic::{Code, Status};
use tonic_prost::ProstEncoder;
use tonic_types::{ErrorDetails, StatusExt as _};

/// The ErrorInfo reason of every request the server could not decode.
pub const MALFORMED_REQUEST: &str = "MALFORMED_REQUEST";
/// The ErrorInfo domain of wire-level refusals, shared by every service.
pub const WIRE_DOMAIN: &str = "grpc.minimodules";

/// INVALID_ARGUMENT `MALFORMED_REQUEST`: the request's bytes are not a valid message of the
/// method's request type. `what` says what was wrong, in developer English.
pub fn malformed(what: impl std::fmt::Display) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(MALFORMED_REQUEST, WIRE_DOMAIN, HashMap::new());
    Status::with_error_details(
        Code::InvalidArgument,
        format!("the request could not be decoded: {what}"),
        details,
    )
}

/// tonic-prost's codec for servers: responses encoded as tonic-prost does, requests decoded
/// with [`RequestDecoder`].
#[derive(Debug, Clone)]
pub struct ServerCodec<T, U> {
    _pd: PhantomData<(T, U)>,
}

impl<T, U> Default for ServerCodec<T, U> {
    fn default() -> Self {
        Self { _pd: PhantomData }
    }
}

impl<T, U> Codec for ServerCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder::default()
    }
}

/// The codec of a method whose answers are held already encoded: the response is the bytes of
/// one encoded message of the method's response type, written as they are, so a held answer is
/// handed out without being cloned and encoded again for every call. Requests decode as every
/// server's do ([`RequestDecoder`]). The bytes on the wire are those [`ServerCodec`] would write
/// for the same message.
#[derive(Debug, Clone)]
pub struct EncodedCodec<U> {
    _pd: PhantomData<U>,
}

impl<U> Default for EncodedCodec<U> {
    fn default() -> Self {
        Self { _pd: PhantomData }
    }
}

impl<U> Codec for EncodedCodec<U>
where
    U: Message + Default + Send + 'static,
{
    type Encode = bytes::Bytes;
    type Decode = U;
    type Encoder = EncodedEncoder;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        EncodedEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder::default()
    }
}

/// Writes a message that is already encoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct EncodedEncoder;

impl tonic::codec::Encoder for EncodedEncoder {
    type Item = bytes::Bytes;
    type Error = Status;

    fn encode(
        &mut self,
        item: bytes::Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// Decodes a request message; a decode error is [`malformed`].
#[derive(Debug, Clone)]
pub struct RequestDecoder<U> {
    _pd: PhantomData<U>,
}

impl<U> Default for RequestDecoder<U> {
    fn default() -> Self {
        Self { _pd: PhantomData }
    }
}

impl<U: Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|e| malformed(e))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// Reads one request message of type `U` from a gRPC request body exactly as a generated
/// server's unary or server-streaming method does (tonic's framing, then [`RequestDecoder`]).
/// For tests and fuzzing of the decode path without a socket.
pub async fn decode_unary<U: Message + Default + Send + 'static>(
    body: tonic::body::Body,
) -> Result<U, Status> {
    let mut stream = Streaming::new_request(RequestDecoder::<U>::default(), body, None, None);
    stream
        .message()
        .await?
        .ok_or_else(|| malformed("the request carries no message"))
}

/// A future that decodes one request and drops it.
pub type DecodeFuture = std::pin::Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;

/// One RPC's request type, for decoding its requests without knowing the type statically.
#[derive(Clone, Copy)]
pub struct RequestType {
    /// gRPC path, "/package.Service/Method".
    pub path: &'static str,
    /// Full protobuf name of the request message.
    pub message: &'static str,
    /// [`decode_unary`] for the method's request type.
    pub decode: fn(tonic::body::Body) -> DecodeFuture,
}

impl std::fmt::Debug for RequestType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestType")
            .field("path", &self.path)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}
