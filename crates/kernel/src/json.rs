//! Conversions between google.protobuf.Struct / Value and serde_json, used where a contract carries
//! free-form JSON (module config, schemas).

use prost_types::{ListValue, Struct, Value, value::Kind};
use serde_json::{Map, Number};

/// A JSON object to a Struct.
pub fn object_to_struct(map: &Map<String, serde_json::Value>) -> Struct {
    Struct {
        fields: map.iter().map(|(k, v)| (k.clone(), to_value(v))).collect(),
    }
}

/// Any JSON value to a Struct: objects map field by field, anything else yields an empty Struct.
pub fn json_to_struct(v: &serde_json::Value) -> Struct {
    match v {
        serde_json::Value::Object(m) => object_to_struct(m),
        _ => Struct::default(),
    }
}

/// A JSON value to a protobuf Value.
pub fn to_value(v: &serde_json::Value) -> Value {
    let kind = match v {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(a) => Kind::ListValue(ListValue {
            values: a.iter().map(to_value).collect(),
        }),
        serde_json::Value::Object(m) => Kind::StructValue(object_to_struct(m)),
    };
    Value { kind: Some(kind) }
}

/// A Struct to a JSON object.
pub fn struct_to_json(s: &Struct) -> serde_json::Value {
    serde_json::Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), from_value(v)))
            .collect(),
    )
}

/// A protobuf Value to JSON. Whole numbers come back as integers, since protobuf carries every
/// number as a double and schemas asking for "integer" must still accept them.
pub fn from_value(v: &Value) -> serde_json::Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                serde_json::Value::Number(Number::from(*n as i64))
            } else {
                Number::from_f64(*n).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::ListValue(l)) => {
            serde_json::Value::Array(l.values.iter().map(from_value).collect())
        }
        Some(Kind::StructValue(s)) => struct_to_json(s),
    }
}

/// A UTC time as a protobuf Timestamp.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nested_json_keeping_integers() {
        let j = serde_json::json!({"a": 1, "b": [true, null, "x", 1.5], "c": {"d": -3}});
        assert_eq!(struct_to_json(&json_to_struct(&j)), j);
    }
}
