//! Meta's limits are enforced when a message is built, before any call.

use whatsapp::client::{
    Button, Buttons, List, MediaKind, MediaMessage, MediaSource, Parameter, Row, Section, Template,
};
use whatsapp::{ContactId, Error, OutboundMessage};

fn to() -> ContactId {
    ContactId::phone("250781234567")
}

fn refused(r: Result<OutboundMessage, Error>) -> String {
    match r {
        Err(Error::Invalid(why)) => why,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn buttons_must_number_one_to_three_with_short_unique_titles() {
    let b = |n: usize| (0..n).map(|i| Button::new(format!("b{i}"), format!("Option {i}")));
    assert!(OutboundMessage::buttons(to(), Buttons::new("Pick", b(3))).is_ok());
    assert!(refused(OutboundMessage::buttons(to(), Buttons::new("Pick", b(4)))).contains("1 to 3"));
    refused(OutboundMessage::buttons(to(), Buttons::new("Pick", b(0))));
    let long = Buttons::new("Pick", [Button::new("a", "x".repeat(21))]);
    assert!(refused(OutboundMessage::buttons(to(), long)).contains("20"));
    // Characters, not bytes: 20 emoji are allowed.
    let emoji = Buttons::new("Pick", [Button::new("a", "\u{1f695}".repeat(20))]);
    assert!(OutboundMessage::buttons(to(), emoji).is_ok());
    let dup = Buttons::new("Pick", [Button::new("a", "One"), Button::new("a", "Two")]);
    assert!(refused(OutboundMessage::buttons(to(), dup)).contains("duplicate"));
    let body = Buttons::new("x".repeat(1025), b(1));
    refused(OutboundMessage::buttons(to(), body));
}

#[test]
fn lists_hold_one_to_ten_rows_with_bounded_texts() {
    let rows = |n: usize| (0..n).map(|i| Row::new(format!("r{i}"), format!("Row {i}")));
    let list = |n| List::new("Choose", "Open").section(Section::new("All", rows(n)));
    assert!(OutboundMessage::list(to(), list(10)).is_ok());
    assert!(refused(OutboundMessage::list(to(), list(11))).contains("1 to 10"));
    refused(OutboundMessage::list(to(), List::new("Choose", "Open")));
    // Ten rows across sections is the limit too.
    let split = List::new("Choose", "Open")
        .section(Section::new("A", rows(6)))
        .section(Section::new(
            "B",
            (6..11).map(|i| Row::new(format!("r{i}"), "Row")),
        ));
    refused(OutboundMessage::list(to(), split));
    let long_title =
        List::new("Choose", "Open").section(Section::new("All", [Row::new("r", "y".repeat(25))]));
    refused(OutboundMessage::list(to(), long_title));
    let long_desc = List::new("Choose", "Open").section(Section::new(
        "All",
        [Row::new("r", "Row").description("d".repeat(73))],
    ));
    refused(OutboundMessage::list(to(), long_desc));
    let long_button = List::new("Choose", "b".repeat(21)).section(Section::new("All", rows(1)));
    refused(OutboundMessage::list(to(), long_button));
    let long_header = list(1).header("h".repeat(61));
    refused(OutboundMessage::list(to(), long_header));
    let untitled = List::new("Choose", "Open")
        .section(Section::new("", rows(1)))
        .section(Section::new("B", [Row::new("z", "Z")]));
    assert!(refused(OutboundMessage::list(to(), untitled)).contains("section title"));
}

#[test]
fn text_media_and_templates_are_checked() {
    refused(OutboundMessage::text(to(), ""));
    refused(OutboundMessage::text(to(), "x".repeat(4097)));
    assert!(OutboundMessage::text(to(), "x".repeat(4096)).is_ok());
    let audio = MediaMessage::new(MediaKind::Audio, MediaSource::Id("1".into())).caption("no");
    refused(OutboundMessage::media(to(), audio));
    let image = MediaMessage::new(MediaKind::Image, MediaSource::Id("1".into())).filename("a.jpg");
    refused(OutboundMessage::media(to(), image));
    let empty = MediaMessage::new(MediaKind::Video, MediaSource::Link(" ".into()));
    refused(OutboundMessage::media(to(), empty));
    refused(OutboundMessage::template(to(), Template::new("", "en")));
    let blank = Template::new("t", "en").body([Parameter::text("")]);
    refused(OutboundMessage::template(to(), blank));
    let no_params = OutboundMessage::template(to(), Template::new("hello_world", "en_US")).unwrap();
    assert_eq!(
        no_params.to_json()["template"],
        serde_json::json!({ "name": "hello_world", "language": { "code": "en_US" } })
    );
}

#[test]
fn a_message_round_trips_through_storage() {
    let msg = OutboundMessage::text(ContactId::user_id("RW.1"), "hi")
        .unwrap()
        .reply_to("wamid.X")
        .with_callback_data("outbox:42")
        .unwrap();
    let stored = serde_json::to_string(&msg).unwrap();
    let back: OutboundMessage = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, msg);
    assert_eq!(back.to(), &ContactId::user_id("RW.1"));
    assert_eq!(back.kind(), "text");
    assert!(serde_json::from_str::<OutboundMessage>(r#"{"type":"text"}"#).is_err());
}
