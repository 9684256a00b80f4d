//! The CSV column table posted and stored: rows become the connector's JSON in column order, and
//! the stored JSON comes back as the same rows.

use super::*;

const NAME: &str = "s.csv_import_formats";

fn post(rows: &[(&str, &str, &str, &str)]) -> Form {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (object, header, field, order) in rows {
        s.append_pair(&format!("{NAME}.object"), object);
        s.append_pair(&format!("{NAME}.header"), header);
        s.append_pair(&format!("{NAME}.field"), field);
        s.append_pair(&format!("{NAME}.order"), order);
    }
    Form::parse(s.finish().as_bytes())
}

#[test]
fn rows_are_stored_as_the_connector_s_json_in_their_order() {
    let form = post(&[
        ("csv_customers", "得意先名", "name", "2"),
        ("csv_customers", "得意先CD", "code", "1"),
        ("csv_suppliers", "仕入先番号", "code", "1"),
        ("csv_customers", "電話", "tel", "3"),
        // The empty row the table always offers.
        ("csv_customers", "", "", "4"),
    ]);
    let mut errors = FieldErrors::new();
    let text = read(Lang::Ja, &form, NAME, "", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        text,
        r#"{"csv_customers": {"得意先CD": "code", "得意先名": "name", "電話": "tel"}, "csv_suppliers": {"仕入先番号": "code"}}"#
    );
    let back = rows(&text).unwrap();
    let shown: Vec<(&str, &str, &str, &str)> = back
        .iter()
        .map(|r| {
            (
                r.object.as_str(),
                r.header.as_str(),
                r.field.as_str(),
                r.order.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("csv_customers", "得意先CD", "code", "1"),
            ("csv_customers", "得意先名", "name", "2"),
            ("csv_customers", "電話", "tel", "3"),
            ("csv_suppliers", "仕入先番号", "code", "1"),
        ]
    );
    // No rows: the standard formats (nothing stored).
    assert_eq!(
        read(
            Lang::Ja,
            &post(&[("", "", "", "")]),
            NAME,
            &text,
            &mut errors
        ),
        ""
    );
}

#[test]
fn the_long_form_keeps_its_name_key_and_types() {
    let stored = r#"{"csv_suppliers": {"name": "仕入先", "key": "仕入先番号", "columns": {"仕入先番号": "no", "登録日": "since"}, "types": {"since": "date"}}}"#;
    let shown = rows(stored).unwrap();
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[1].header, "登録日");
    let form = post(&[
        ("csv_suppliers", "仕入先番号", "no", "1"),
        ("csv_suppliers", "仕入先名", "name", "2"),
        ("csv_suppliers", "登録日", "since", "3"),
    ]);
    let text = read(Lang::Ja, &form, NAME, stored, &mut FieldErrors::new());
    assert_eq!(
        text,
        r#"{"csv_suppliers": {"name": "仕入先", "key": "仕入先番号", "columns": {"仕入先番号": "no", "仕入先名": "name", "登録日": "since"}, "types": {"since": "date"}}}"#
    );
}

#[test]
fn a_half_row_is_an_error_and_odd_text_is_shown_as_it_is() {
    let mut errors = FieldErrors::new();
    read(
        Lang::Ja,
        &post(&[("csv_customers", "得意先CD", "", "1")]),
        NAME,
        "",
        &mut errors,
    );
    assert_eq!(
        errors.get(NAME).map(String::as_str),
        Some("1行目: オブジェクトID・列の見出し・項目IDをすべて入れてください")
    );
    assert_eq!(rows("{not json"), None);
    assert_eq!(rows(r#"{"csv_x": {"A": 3}}"#), None);
    assert_eq!(rows("  "), Some(vec![]));
    let t = table("").unwrap();
    assert_eq!(t.get_attr("rows").unwrap().len(), Some(1));
}

#[test]
fn a_refused_table_is_shown_again_as_typed() {
    let form = post(&[
        ("csv_customers", "得意先CD", "code", "1"),
        ("csv_customers", "住所", "", "2"),
    ]);
    let text = typed(&form, NAME, "");
    let shown = rows(&text).unwrap();
    assert_eq!(shown.len(), 2);
    assert_eq!(
        (shown[1].header.as_str(), shown[1].field.as_str()),
        ("住所", "")
    );
}
