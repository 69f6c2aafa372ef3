//! The closed vocabularies of the engine: vehicle category, usage, owner type, cover and insurer.
//!
//! Each is a typed enum with one canonical spelling (the one the original service and the tariff files use).
//! Parsing an unknown spelling is an error, never a silent default: the original priced an unknown category
//! at a TP base of 0 (spec 2.10, "enums are not validated").

use serde::Serialize;

use crate::error::InputError;

/// Declares a string-backed enum: `ALL`, `COUNT`, `index()`, `as_str()`, `Display`, `FromStr` and serde
/// through the same spelling, so the wire, the tariff files and the Rust code cannot drift apart.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident (unknown: $err:path) {
            $( $(#[$vmeta:meta])* $variant:ident = $index:literal => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order (`ALL[v.index()] == v`).
            pub const ALL: [Self; [$($index),+].len()] = [$(Self::$variant),+];
            /// How many values there are; the length of per-value lookup tables.
            pub const COUNT: usize = Self::ALL.len();
            /// Every canonical spelling, in declaration order.
            pub const NAMES: [&'static str; Self::COUNT] = [$($text),+];

            /// Position in `ALL`, used to index fixed-size lookup tables.
            #[must_use]
            pub const fn index(self) -> usize {
                match self { $( Self::$variant => $index, )+ }
            }

            /// The canonical spelling.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $text, )+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = InputError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $text => Ok(Self::$variant), )+
                    other => Err($err(other.to_owned())),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(f, "one of {:?}", $name::NAMES)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(|_| E::unknown_variant(v, &$name::NAMES))
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// The tariff's vehicle category (spec 2.6 `classifyVehicle`, 2.7 tables).
    pub enum VehicleCategory (unknown: InputError::UnknownCategory) {
        /// Motorcycle ("moto").
        Motorcycle = 0 => "MOTORCYCLE",
        /// Tricycle ("tuk-tuk").
        Tricycle = 1 => "TRICYCLE",
        /// Saloon car; also the fallback class.
        Car = 2 => "CAR",
        /// Jeep or SUV.
        JeepSuv = 3 => "JEEP_SUV",
        /// Pick-up or small lorry.
        PickupSmallLorry = 4 => "PICKUP_SMALL_LORRY",
        /// Minibus or van.
        MinibusVan = 5 => "MINIBUS_VAN",
        /// Bus or coach.
        Bus = 6 => "BUS",
        /// Heavy trucks of the HOWO, Shacman, Fuso and FAW kind.
        HowoShacmanFusoFaw = 7 => "HOWO_SHACMAN_FUSO_FAW",
        /// Truck or lorry of 5 tonnes or more.
        TruckLorry5tPlus = 8 => "TRUCK_LORRY_5T_PLUS",
        /// Trailer or semi-trailer.
        Trailer = 9 => "TRAILER",
        /// Tractor (no insurer currently prices it: always "not offered").
        Tractor = 10 => "TRACTOR",
        /// Special engine (no insurer currently prices it).
        SpecialEngine = 11 => "SPECIAL_ENGINE",
    }
}

string_enum! {
    /// What the vehicle is used for; selects the TP, OTF and loading tables.
    pub enum UsageType (unknown: InputError::UnknownUsage) {
        /// Private use.
        Private = 0 => "PRIVATE",
        /// Taxi or public service vehicle.
        TaxiPsv = 1 => "TAXI_PSV",
        /// Vehicle for hire.
        Hire = 2 => "HIRE",
        /// School bus (priced as a bus whatever the category).
        SchoolBus = 3 => "SCHOOL_BUS",
        /// Commercial transport of goods.
        CommercialGoods = 4 => "COMMERCIAL_GOODS",
        /// Driving school (priced with the goods tables).
        DrivingSchool = 5 => "DRIVING_SCHOOL",
    }
}

string_enum! {
    /// Who owns the vehicle; only Radiant's owner-type TP fallback reads it.
    pub enum OwnerType (unknown: InputError::UnknownOwner) {
        /// A natural person.
        Individual = 0 => "INDIVIDUAL",
        /// A company or other body.
        Corporate = 1 => "CORPORATE",
    }
}

string_enum! {
    /// The cover chosen on top of the compulsory third-party (TP) cover.
    pub enum Cover (unknown: InputError::UnknownCover) {
        /// Third party only: no own-damage, theft or fire (OTF) premium.
        TpOnly = 0 => "TP_ONLY",
        /// TP plus material damage.
        MdOnly = 1 => "MD_ONLY",
        /// TP plus theft.
        TheftOnly = 2 => "THEFT_ONLY",
        /// TP plus fire.
        FireOnly = 3 => "FIRE_ONLY",
        /// TP plus own damage, theft and fire.
        OdTheftFire = 4 => "OD_THEFT_FIRE",
        /// Comprehensive: priced like `OD_THEFT_FIRE`.
        Comprehensive = 5 => "COMPREHENSIVE",
    }
}

string_enum! {
    /// The insurers this engine prices; the spelling is the slug of spec 2.3.
    pub enum Insurer (unknown: InputError::UnknownInsurer) {
        /// BK Insurance.
        Bk = 0 => "bk",
        /// Old Mutual Rwanda.
        OldMutual = 1 => "old-mutual",
        /// Prime Insurance.
        Prime = 2 => "prime",
        /// Radiant Insurance.
        Radiant = 3 => "radiant",
    }
}

impl Cover {
    /// Whether the cover carries an own-damage/theft/fire premium (everything but `TP_ONLY`).
    #[must_use]
    pub const fn has_own_damage(self) -> bool {
        !matches!(self, Self::TpOnly)
    }
}

/// Static facts about an insurer that are not tariff (spec 2.3). The merchant codes are the original's
/// placeholders: a service should confirm them with each insurer before taking money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InsurerProfile {
    /// The insurer this profile describes.
    pub insurer: Insurer,
    /// Display name, as shown to customers.
    pub name: &'static str,
    /// MTN MoMo merchant code, digits only.
    pub momo_merchant_code: &'static str,
    /// Customer support phone number (E.164).
    pub support_phone: &'static str,
}

const PROFILES: [InsurerProfile; Insurer::COUNT] = [
    InsurerProfile {
        insurer: Insurer::Bk,
        name: "BK Insurance",
        momo_merchant_code: "000123",
        support_phone: "+250788123000",
    },
    InsurerProfile {
        insurer: Insurer::OldMutual,
        name: "Old Mutual Rwanda",
        momo_merchant_code: "000245",
        support_phone: "+250788222555",
    },
    InsurerProfile {
        insurer: Insurer::Prime,
        name: "Prime Insurance",
        momo_merchant_code: "000377",
        support_phone: "+250788334455",
    },
    InsurerProfile {
        insurer: Insurer::Radiant,
        name: "Radiant Insurance",
        momo_merchant_code: "000498",
        support_phone: "+250788556677",
    },
];

impl Insurer {
    /// The insurer's static profile.
    #[must_use]
    pub const fn profile(self) -> &'static InsurerProfile {
        &PROFILES[self.index()]
    }

    /// Display name ("BK Insurance").
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.profile().name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips_and_indexes_its_own_slot() {
        for c in VehicleCategory::ALL {
            assert_eq!(c.as_str().parse::<VehicleCategory>().unwrap(), c);
            assert_eq!(VehicleCategory::ALL[c.index()], c);
        }
        for u in UsageType::ALL {
            assert_eq!(u.as_str().parse::<UsageType>().unwrap(), u);
            assert_eq!(UsageType::ALL[u.index()], u);
        }
        for c in Cover::ALL {
            assert_eq!(c.as_str().parse::<Cover>().unwrap(), c);
            assert_eq!(Cover::ALL[c.index()], c);
        }
        for i in Insurer::ALL {
            assert_eq!(i.as_str().parse::<Insurer>().unwrap(), i);
            assert_eq!(i.profile().insurer, i);
        }
    }

    #[test]
    fn an_unknown_category_usage_or_cover_is_a_validation_error() {
        assert_eq!(
            "SPACESHIP".parse::<VehicleCategory>(),
            Err(InputError::UnknownCategory("SPACESHIP".into()))
        );
        assert_eq!(
            "car".parse::<VehicleCategory>(),
            Err(InputError::UnknownCategory("car".into()))
        );
        assert_eq!(
            "UBER".parse::<UsageType>(),
            Err(InputError::UnknownUsage("UBER".into()))
        );
        assert_eq!(
            "FULL".parse::<Cover>(),
            Err(InputError::UnknownCover("FULL".into()))
        );
        let err = serde_json::from_str::<VehicleCategory>("\"TRUCK\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant `TRUCK`"), "{err}");
    }

    #[test]
    fn serde_uses_the_canonical_spelling() {
        let json = serde_json::to_string(&VehicleCategory::TruckLorry5tPlus).unwrap();
        assert_eq!(json, "\"TRUCK_LORRY_5T_PLUS\"");
        assert_eq!(
            serde_json::from_str::<Insurer>("\"old-mutual\"").unwrap(),
            Insurer::OldMutual
        );
    }
}
