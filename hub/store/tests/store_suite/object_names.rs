//! Each object's naming (title field, record page) is kept per connection, replaced by the next
//! listing, and goes with its connection.

use super::{common, new_connection};

#[tokio::test]
async fn object_names_are_replaced_by_each_listing_and_go_with_the_connection() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("n")).await.unwrap();
        assert_eq!(s.object_name(&conn, "1").await.unwrap(), None, "{}", t.name);
        let url = "https://x.cybozu.com/k/1/show#record={id}".to_string();
        let listed = vec![
            (
                "1".to_string(),
                Some("会社名".to_string()),
                Some(url.clone()),
            ),
            ("2".to_string(), None, None),
        ];
        s.save_object_names(&conn, &listed).await.unwrap();
        assert_eq!(
            s.object_name(&conn, "1").await.unwrap(),
            Some((Some("会社名".into()), Some(url))),
            "{}",
            t.name
        );
        assert_eq!(s.object_name(&conn, "2").await.unwrap(), Some((None, None)));
        s.save_object_names(&conn, &listed[1..]).await.unwrap();
        assert_eq!(s.object_name(&conn, "1").await.unwrap(), None, "{}", t.name);
        s.delete_connection(&conn).await.unwrap();
        assert_eq!(s.object_name(&conn, "2").await.unwrap(), None, "{}", t.name);
    }
}
