//! The vehicle-document schema the vision model must answer in (spec 2.6 `VehicleDocSchema`),
//! and what the service reads from it: category by whole-word classification, usage guess.

use pricing::{OwnerType, UsageType, VehicleCategory};
use serde::{Deserialize, Serialize};

use super::parse::category_word;

/// What the model read from a Yellow Card, logbook or photo. Every field is optional (the model
/// omits what it cannot read); an unknown field or a wrong type fails validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub(crate) struct VehicleDoc {
    pub(crate) plate_number: Option<String>,
    pub(crate) vin: Option<String>,
    pub(crate) make: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) body_type: Option<String>,
    pub(crate) year: Option<i32>,
    pub(crate) usage_hint: Option<UsageType>,
    pub(crate) seats: Option<u16>,
    pub(crate) passengers_above_driver: Option<u16>,
    pub(crate) engine_capacity_cc: Option<serde_json::Number>,
    pub(crate) gross_weight_kg: Option<serde_json::Number>,
    pub(crate) tonnage: Option<serde_json::Number>,
    pub(crate) previous_insurer: Option<String>,
    pub(crate) previous_policy_number: Option<String>,
    pub(crate) sum_insured_hint: Option<i64>,
    pub(crate) owner_type: Option<OwnerType>,
}

impl VehicleDoc {
    /// Checks the values the schema's types cannot: a plausible year, seats and sum insured.
    pub(crate) fn check(&self, this_year: i32) -> Result<(), String> {
        if let Some(y) = self.year
            && !(1950..=this_year + 1).contains(&y)
        {
            return Err(format!("year {y} is implausible"));
        }
        if let Some(s) = self.seats
            && !(1..=pricing::MAX_SEATS).contains(&s)
        {
            return Err(format!("seats {s} out of range"));
        }
        if let Some(si) = self.sum_insured_hint
            && !(0..=pricing::MAX_SUM_INSURED).contains(&si)
        {
            return Err("sumInsuredHint out of range".to_owned());
        }
        Ok(())
    }

    /// The category from `bodyType model make`, whole words, the spec's row order; `None` when
    /// nothing matches (the user is asked, rather than guessing CAR).
    pub(crate) fn category(&self) -> Option<VehicleCategory> {
        let text = [&self.body_type, &self.model, &self.make]
            .into_iter()
            .flatten()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        let padded = format!(" {text} ");
        if padded.contains(" land cruiser ") {
            return Some(VehicleCategory::JeepSuv);
        }
        if padded.contains(" school bus ") {
            return Some(VehicleCategory::Bus);
        }
        text.split(|c: char| c.is_whitespace() || c == ',' || c == '/')
            .find_map(category_word)
            .or_else(|| {
                // A body type the model spelled out ("Saloon car", "Station wagon").
                (padded.contains(" station wagon ") || padded.contains(" saloon "))
                    .then_some(VehicleCategory::Car)
            })
    }

    /// Usage: the hint, else a guess from the words (spec 2.6), else `None`.
    pub(crate) fn usage(&self) -> Option<UsageType> {
        if self.usage_hint.is_some() {
            return self.usage_hint;
        }
        let text = [&self.body_type, &self.model, &self.make]
            .into_iter()
            .flatten()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        let words: Vec<&str> = text.split_whitespace().collect();
        let any = |list: &[&str]| words.iter().any(|w| list.contains(w));
        if any(&["taxi", "psv"]) {
            Some(UsageType::TaxiPsv)
        } else if text.contains("school bus") {
            Some(UsageType::SchoolBus)
        } else if any(&["hire"]) {
            Some(UsageType::Hire)
        } else if any(&["goods", "truck", "lorry", "camion", "canter"]) {
            Some(UsageType::CommercialGoods)
        } else {
            None
        }
    }

    /// The JSON schema sent to the model (`response_format` `json_schema`).
    pub(crate) fn json_schema() -> serde_json::Value {
        let s = || serde_json::json!({"type": ["string", "null"]});
        let i = || serde_json::json!({"type": ["integer", "null"]});
        let n = || serde_json::json!({"type": ["number", "null"]});
        let mut schema = serde_json::json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "plateNumber": s(), "vin": s(), "make": s(), "model": s(), "bodyType": s(),
                "year": i(),
                "usageHint": {"type": ["string", "null"], "enum": [
                    "PRIVATE", "TAXI_PSV", "HIRE", "SCHOOL_BUS", "COMMERCIAL_GOODS",
                    "DRIVING_SCHOOL", null]},
                "seats": i(), "passengersAboveDriver": i(), "engineCapacityCC": n(),
                "grossWeightKg": n(), "tonnage": n(), "previousInsurer": s(),
                "previousPolicyNumber": s(), "sumInsuredHint": i(),
                "ownerType": {"type": ["string", "null"], "enum": ["INDIVIDUAL", "CORPORATE", null]}
            }
        });
        // Strict structured output wants every property listed as required (null = unread).
        let keys: Vec<serde_json::Value> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().map(serde_json::Value::from).collect())
            .unwrap_or_default();
        schema["required"] = serde_json::Value::Array(keys);
        schema
    }
}

/// The instructions sent with the images.
pub(crate) const SYSTEM_PROMPT: &str = "You read Rwandan motor-vehicle documents (Yellow Card, \
logbook / carte grise, insurance certificates, photos of the vehicle). Answer with one JSON object \
only, using exactly the fields of the schema; omit or null what you cannot read. Never guess.";

/// The user instruction before the images.
pub(crate) const USER_PROMPT: &str = "Extract the vehicle facts. `seats` counts every seat, the \
driver's included; `passengersAboveDriver` excludes the driver. `year` is the year of manufacture. \
`sumInsuredHint` is a value in RWF only when the document states one.";

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: serde_json::Value) -> Result<VehicleDoc, serde_json::Error> {
        serde_json::from_value(json)
    }

    #[test]
    fn the_schema_is_enforced() {
        assert!(doc(serde_json::json!({"make": "Toyota", "year": 2015})).is_ok());
        assert!(doc(serde_json::json!({"year": "2015"})).is_err());
        assert!(doc(serde_json::json!({"usageHint": "SPACESHIP"})).is_err());
        assert!(doc(serde_json::json!({"colour": "red"})).is_err());
        let d = doc(serde_json::json!({"year": 1800})).unwrap();
        assert!(d.check(2026).is_err());
    }

    #[test]
    fn classification_is_by_whole_word() {
        let d = |body: &str, model: &str| VehicleDoc {
            body_type: Some(body.into()),
            model: Some(model.into()),
            make: Some("Toyota".into()),
            ..VehicleDoc::default()
        };
        assert_eq!(d("Jeep", "RAV4").category(), Some(VehicleCategory::JeepSuv));
        assert_eq!(
            d("Minibus", "Hiace").category(),
            Some(VehicleCategory::MinibusVan)
        );
        assert_eq!(
            d("Station wagon", "Vanguard").category(),
            Some(VehicleCategory::Car)
        );
        assert_eq!(d("Motor vehicle", "Corolla").category(), None);
        assert_eq!(
            d("Land Cruiser", "VX").category(),
            Some(VehicleCategory::JeepSuv)
        );
        assert_eq!(
            d("Truck", "Canter").usage(),
            Some(UsageType::CommercialGoods)
        );
    }
}
