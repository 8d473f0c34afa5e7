//! Fuzz of the gRPC request decode path, for the request type of every RPC (`mm_proto::
//! REQUEST_TYPES`): bytes go through the same framing check (`mm_kernel::framing`), tonic's
//! framing and the servers' codec as a real call. Whatever the bytes, decoding must not panic
//! and must either succeed or fail as the caller's fault: INVALID_ARGUMENT with the reason
//! MALFORMED_REQUEST (or OUT_OF_RANGE for a frame longer than the message limit).
//!
//! Bounded for the normal test suite; run longer with
//! `PROPTEST_CASES=20000 cargo test -p mm-kernel --test decode_fuzz`.

use bytes::Bytes;
use http_body_util::Full;
use mm_proto::codec::MALFORMED_REQUEST;
use proptest::prelude::*;
use tonic::Code;
use tonic_types::StatusExt as _;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn frame(msg: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&u32::try_from(msg.len()).expect("short").to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// Decodes `body` as every RPC's request and checks each outcome.
/// `must_fail`: the body is broken whatever the type, so every decode must be refused.
fn decode_as_every_request(
    rt: &tokio::runtime::Runtime,
    body: &[u8],
    must_fail: bool,
) -> Result<(), TestCaseError> {
    for t in mm_proto::REQUEST_TYPES {
        let raw = tonic::body::Body::new(Full::new(Bytes::copy_from_slice(body)));
        let outcome = rt.block_on((t.decode)(mm_kernel::framing::checked(raw, true)));
        prop_assert!(
            !must_fail || outcome.is_err(),
            "{} accepted a broken body",
            t.message
        );
        if let Err(status) = outcome {
            match status.code() {
                Code::InvalidArgument => {
                    let reason = status
                        .get_error_details()
                        .error_info()
                        .map(|i| i.reason.clone());
                    prop_assert_eq!(
                        reason.as_deref(),
                        Some(MALFORMED_REQUEST),
                        "{}: {}",
                        t.message,
                        status.message()
                    );
                }
                Code::OutOfRange => {}
                // The gRPC spec itself requires INTERNAL for a frame flagged compressed when the
                // call named no grpc-encoding; arbitrary bodies hit that with a first byte of 1.
                Code::Internal
                    if body.first() == Some(&1) && status.message().contains("compressed-flag") => {
                }
                other => {
                    return Err(TestCaseError::fail(format!(
                        "{} answered {other:?}: {}",
                        t.message,
                        status.message()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Bytes shaped like protobuf: fields with real wire types, strings that may or may not be
/// UTF-8, and nested messages, so the decoders get past the first tag.
fn wire() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        // varint field
        (1u32..20, any::<u64>()).prop_map(|(n, v)| {
            let mut out = varint(u64::from(n << 3));
            out.extend(varint(v));
            out
        }),
        // length-delimited field with arbitrary bytes (strings, bytes, or broken messages)
        (1u32..20, proptest::collection::vec(any::<u8>(), 0..24)).prop_map(|(n, b)| ld(n, &b)),
        // fixed64 / fixed32 fields
        (1u32..20, any::<u64>()).prop_map(|(n, v)| {
            let mut out = varint(u64::from(n << 3 | 1));
            out.extend(v.to_le_bytes());
            out
        }),
        (1u32..20, any::<u32>()).prop_map(|(n, v)| {
            let mut out = varint(u64::from(n << 3 | 5));
            out.extend(v.to_le_bytes());
            out
        }),
        // any bytes at all
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    let field = leaf.prop_recursive(4, 64, 6, |inner| {
        (1u32..20, proptest::collection::vec(inner, 0..6))
            .prop_map(|(n, fields)| ld(n, &fields.concat()))
    });
    proptest::collection::vec(field, 1..6).prop_map(|fields| fields.concat())
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn ld(field: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(field << 3 | 2));
    out.extend(varint(payload.len() as u64));
    out.extend_from_slice(payload);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_message_bytes_decode_or_are_refused_as_malformed(msg in proptest::collection::vec(any::<u8>(), 0..64)) {
        decode_as_every_request(&runtime(), &frame(&msg), false)?;
    }

    #[test]
    fn protobuf_shaped_bytes_decode_or_are_refused_as_malformed(msg in wire()) {
        decode_as_every_request(&runtime(), &frame(&msg), false)?;
    }

    #[test]
    fn any_body_decodes_or_is_refused_as_malformed(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        decode_as_every_request(&runtime(), &body, false)?;
    }

    #[test]
    fn a_cut_frame_is_refused_as_malformed(msg in wire(), cut in any::<prop::sample::Index>()) {
        let whole = frame(&msg);
        let cut = cut.index(whole.len());
        decode_as_every_request(&runtime(), &whole[..cut], true)?;
    }
}

#[test]
fn every_rpc_has_a_request_type_to_fuzz() {
    assert_eq!(mm_proto::REQUEST_TYPES.len(), mm_proto::METHODS.len());
    for m in mm_proto::METHODS {
        assert!(
            mm_proto::REQUEST_TYPES.iter().any(|t| t.path == m.path),
            "{} has no request type",
            m.path
        );
    }
}
