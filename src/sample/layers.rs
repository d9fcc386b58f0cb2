//! The layers an order is dealt into, each a table of shares in ‰: archetype, people, priority,
//! tag group, e-mail, and the currencies with their rates.

use crate::domain::{Priority, ReturnState};

/// What happens to an order; decides its status, parcels and return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Archetype {
    Unfulfilled,
    CancelledVoided,
    CancelledRefunded,
    Delayed,
    OnHold,
    PartialNoTracking,
    Fresh,
    OutForDelivery,
    DeliveryException,
    Returned(ReturnState),
    InTransit,
    PartialInTransit,
    LabelPrinted,
    Delivered,
}

/// In order of need: at tiny N the last entries get no slots first. `Delivered` takes the rest.
pub(super) const ARCHETYPES: &[(Archetype, u32)] = &[
    (Archetype::Unfulfilled, 100),
    (Archetype::CancelledVoided, 40),
    (Archetype::CancelledRefunded, 20),
    (Archetype::Delayed, 60),
    (Archetype::OnHold, 40),
    (Archetype::PartialNoTracking, 25),
    (Archetype::Fresh, 15),
    (Archetype::OutForDelivery, 35),
    (Archetype::DeliveryException, 25),
    (Archetype::Returned(ReturnState::AwaitingLabel), 20),
    (Archetype::Returned(ReturnState::LabelGenerated), 15),
    (Archetype::Returned(ReturnState::InTransit), 20),
    (Archetype::Returned(ReturnState::Inspection), 20),
    (Archetype::Returned(ReturnState::AwaitingRefund), 15),
    (Archetype::Returned(ReturnState::Completed), 30),
    (Archetype::Returned(ReturnState::Denied), 15),
    (Archetype::Returned(ReturnState::Cancelled), 10),
    (Archetype::InTransit, 70),
    (Archetype::PartialInTransit, 30),
    (Archetype::LabelPrinted, 25),
    (Archetype::Delivered, 370),
];

/// Who looks after an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum People {
    OpenSupport,
    ClosedSupport,
    Team,
    Nobody,
}

pub(super) const PEOPLE: &[(People, u32)] = &[
    (People::OpenSupport, 70),
    (People::ClosedSupport, 30),
    (People::Team, 350),
    (People::Nobody, 550),
];

pub(super) const PRIORITIES: &[(Priority, u32)] = &[
    (Priority::Urgent, 100),
    (Priority::Low, 150),
    (Priority::High, 200),
    (Priority::Normal, 550),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TagGroup {
    Vip,
    Wholesale,
    Gift,
    Plain,
}

pub(super) const TAG_GROUPS: &[(TagGroup, u32)] = &[
    (TagGroup::Vip, 80),
    (TagGroup::Wholesale, 50),
    (TagGroup::Gift, 70),
    (TagGroup::Plain, 800),
];

/// Whether the customer left an e-mail address.
pub(super) const EMAILS: &[(bool, u32)] = &[(false, 80), (true, 920)];

/// A currency and the places its parcels travel through.
#[derive(Debug)]
pub(super) struct Currency {
    pub(super) code: &'static str,
    /// Minor units per US cent, in thousandths.
    pub(super) rate: u64,
    pub(super) decimals: bool,
    pub(super) carriers: &'static [&'static str],
    pub(super) cities: &'static [&'static str],
}

const USD: Currency = Currency {
    code: "USD",
    rate: 1_000,
    decimals: true,
    carriers: &["UPS", "UPS", "USPS", "USPS", "FedEx"],
    cities: &[
        "Louisville, KY",
        "Memphis, TN",
        "Chicago, IL",
        "Dallas, TX",
        "Ontario, CA",
        "Newark, NJ",
    ],
};
const EUR: Currency = Currency {
    code: "EUR",
    rate: 920,
    decimals: true,
    carriers: &["DHL", "DHL", "UPS", "FedEx"],
    cities: &["Leipzig", "Paris", "Amsterdam", "Milan", "Madrid"],
};
const GBP: Currency = Currency {
    code: "GBP",
    rate: 790,
    decimals: true,
    carriers: &["DHL", "DHL", "UPS", "FedEx"],
    cities: &["East Midlands", "London", "Manchester", "Glasgow"],
};
const CAD: Currency = Currency {
    code: "CAD",
    rate: 1_360,
    decimals: true,
    carriers: &["Canada Post", "Canada Post", "UPS", "FedEx"],
    cities: &[
        "Mississauga, ON",
        "Montreal, QC",
        "Calgary, AB",
        "Vancouver, BC",
    ],
};
const AUD: Currency = Currency {
    code: "AUD",
    rate: 1_520,
    decimals: true,
    carriers: &["DHL", "FedEx", "UPS"],
    cities: &["Sydney, NSW", "Melbourne, VIC", "Brisbane, QLD"],
};
const JPY: Currency = Currency {
    code: "JPY",
    rate: 1_500,
    decimals: false,
    carriers: &["DHL", "FedEx"],
    cities: &["Tokyo", "Osaka", "Nagoya"],
};

pub(super) const CURRENCIES: &[(&Currency, u32)] = &[
    (&EUR, 150),
    (&GBP, 120),
    (&CAD, 100),
    (&AUD, 80),
    (&JPY, 100),
    (&USD, 450),
];
