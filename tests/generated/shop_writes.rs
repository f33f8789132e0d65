//! Copied into the crate generated from `model-specs/shop.yaml` by `tests/build_generated.rs`:
//! model-level checks, decimal and integer bounds, upserts on a composite unique key and protected
//! deletes, over HTTP against the running server.

mod gqlauto;

use serde_json::{json, Value};

/// The key the test server verifies tokens with.
const JWT_SECRET: &str = "the shop test's secret, thirty-two bytes or more";

fn token(role: &str, sub: &str) -> String {
    gqlauto::token(JWT_SECRET, json!({"sub": sub, "role": role}))
}

/// The server on a fresh database (SQLite, or PostgreSQL when `GQLAUTO_TEST_POSTGRES_URL` is set).
struct Server(gqlauto::Server);

impl Server {
    fn start() -> Server {
        let vars = [("JWT_SECRET", JWT_SECRET), ("REPORT_SQL_STATEMENTS", "true")];
        Server(gqlauto::Server::start(gqlauto::TestDatabase::new("shop"), &vars))
    }

    fn gql(&self, query: &str, variables: &Value) -> Value {
        self.gql_as("staff", "0", query, variables)
    }

    /// A request with a token of `role` for the customer `sub`.
    fn gql_as(&self, role: &str, sub: &str, query: &str, variables: &Value) -> Value {
        let (status, body) = self.0.send(Some(&token(role, sub)), query, variables.clone());
        assert_eq!(status, 200, "never a server failure");
        body
    }

    /// The single error a request must produce.
    fn error(&self, query: &str, variables: &Value) -> Value {
        let body = self.gql(query, variables);
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("expected an error: {body}"));
        assert_eq!(errors.len(), 1, "{body}");
        errors[0].clone()
    }

    fn data(&self, query: &str, variables: &Value) -> Value {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}\nvariables: {variables}");
        body["data"].clone()
    }
}



fn code_and_field(error: &Value) -> (String, String) {
    let ext = &error["extensions"];
    (ext["code"].as_str().unwrap_or("").to_string(), ext["field"].as_str().unwrap_or("").to_string())
}

fn pair(code: &str, field: &str) -> (String, String) {
    (code.to_string(), field.to_string())
}

/// Model-level checks, decimal bounds, composite unique keys and protected deletes.
#[test]
fn model_checks_and_constraints() {
    let s = Server::start();
    let none = json!({});
    let ids = s.data(
        "mutation { c: createCustomer(input: {email: \"a@b.io\", fullName: \"Ann\"}) { id } cat: createCategory(input: {name: \"Tools\", slug: \"tools\"}) { id } }",
        &none,
    );
    let (customer, category) = (ids["c"]["id"].clone(), ids["cat"]["id"].clone());
    let create_order = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { id shippedOn deliveredOn total } }";

    // Checked before the write: the rule's own message, on the left field.
    let bad = s.error(create_order, &json!({"input": {"customerId": customer, "shippedOn": "2024-05-02", "deliveredOn": "2024-05-01"}}));
    assert_eq!(code_and_field(&bad), pair("VALIDATION_FAILED", "input.deliveredOn"));
    assert_eq!(bad["extensions"]["errors"][0]["code"], "CHECK");
    assert_eq!(bad["message"], "an order cannot be delivered before it ships");
    // A decimal literal rule compares by value, and several broken rules are reported together.
    let both = s.error(create_order, &json!({"input": {"customerId": customer, "total": "-0.01", "shippedOn": "2024-05-02", "deliveredOn": "2024-01-01"}}));
    let fields: Vec<&str> = both["extensions"]["errors"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["input.deliveredOn", "input.total"]);
    let order = s.data(create_order, &json!({"input": {"customerId": customer, "total": "10.00", "shippedOn": "2024-05-02", "deliveredOn": "2024-05-03"}}))["createOrder"].clone();
    assert_eq!(order["total"], "10.00");

    // An update that breaks the rule together with the stored value is caught by the CHECK
    // constraint, reported on the field with the same message, and rolled back.
    let upd = "mutation($id: ID!, $input: UpdateOrderInput!) { updateOrder(id: $id, input: $input) { deliveredOn } }";
    let late = s.error(upd, &json!({"id": order["id"], "input": {"shippedOn": "2024-06-01"}}));
    assert_eq!(code_and_field(&late), pair("VALIDATION_FAILED", "input.deliveredOn"));
    assert_eq!(late["message"], "an order cannot be delivered before it ships");
    assert!(!late["message"].as_str().unwrap().contains("constraint"));
    let fine = s.data(upd, &json!({"id": order["id"], "input": {"deliveredOn": null}}))["updateOrder"].clone();
    assert!(fine["deliveredOn"].is_null());

    // Field rules on decimals and integers.
    let create_product = "mutation($input: CreateProductInput!) { createProduct(input: $input) { id sku price stock } }";
    let neg = s.error(create_product, &json!({"input": {"sku": "X", "name": "X", "price": "-1", "stock": -2, "categoryId": category}}));
    let codes: Vec<&str> = neg["extensions"]["errors"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["MIN_VALUE", "MIN_VALUE"]);
    let hammer = s.data(create_product, &json!({"input": {"sku": "H-1", "name": "Hammer", "price": "9.5", "categoryId": category}}))["createProduct"].clone();
    assert_eq!(hammer["price"], "9.50");

    // Upsert on a composite unique key (order, product) adds to an order line's quantity.
    let upsert_line = "mutation($input: CreateOrderLineInput!) { upsertOrderLine(input: $input, onConflict: {fields: [ORDER_ID, PRODUCT_ID], update: [QUANTITY]}) { id quantity } }";
    let line = |q: i64| json!({"input": {"orderId": order["id"], "productId": hammer["id"], "quantity": q, "unitPrice": "9.50"}});
    let first = s.data(upsert_line, &line(1))["upsertOrderLine"].clone();
    let second = s.data(upsert_line, &line(3))["upsertOrderLine"].clone();
    assert_eq!((first["id"].clone(), second["quantity"].clone()), (second["id"].clone(), json!(3)));

    // `protect` relations refuse the delete with CONFLICT; nothing is removed.
    let del = s.error("mutation($id: ID!) { deleteProduct(id: $id) { id } }", &json!({"id": hammer["id"]}));
    assert_eq!(del["extensions"]["code"], "CONFLICT");
    let still = s.data("query($id: ID!) { product(id: $id) { sku } }", &json!({"id": hammer["id"]}));
    assert_eq!(still["product"]["sku"], "H-1");
    let del_cat = s.error("mutation { deleteCategories(where: {}) { count } }", &none);
    assert_eq!(del_cat["extensions"]["code"], "CONFLICT");
    // `restrict`: a customer with orders cannot be deleted; after deleting the order, it can.
    let del_customer = "mutation($id: ID!) { deleteCustomer(id: $id) { fullName } }";
    assert_eq!(s.error(del_customer, &json!({"id": customer}))["extensions"]["code"], "CONFLICT");
    s.data("mutation($id: ID!) { deleteOrder(id: $id) { id } }", &json!({"id": order["id"]}));
    assert_eq!(s.data(del_customer, &json!({"id": customer}))["deleteCustomer"]["fullName"], "Ann");
}

/// Decimal increments are exact and held to the field's digits and bounds.
#[test]
fn decimal_increments_are_exact() {
    let s = Server::start();
    let none = json!({});
    let cat = s.data("mutation { createCategory(input: {name: \"C\", slug: \"c\"}) { id } }", &none)["createCategory"]["id"].clone();
    let p = s.data("mutation($c: ID!) { createProduct(input: {sku: \"S\", name: \"N\", price: \"0.10\", categoryId: $c}) { id } }", &json!({"c": cat}))["createProduct"]["id"].clone();
    let inc = "mutation($id: ID!, $by: Decimal!) { updateProduct(id: $id, input: {price: {increment: $by}}) { price } }";
    // 0.10 + 0.20 is exactly 0.30 (never 0.30000000000000004), concurrently too.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    s.data(inc, &json!({"id": p, "by": "0.20"}));
                }
            });
        }
    });
    let price = s.data("query($id: ID!) { product(id: $id) { price } }", &json!({"id": p}))["product"]["price"].clone();
    assert_eq!(price, "4.10");
    let places = s.error(inc, &json!({"id": p, "by": "0.001"}));
    assert_eq!(code_and_field(&places), pair("VALIDATION_FAILED", "input.price"));
    let below = s.error(inc, &json!({"id": p, "by": "-5"}));
    assert_eq!(below["extensions"]["errors"][0]["code"], "MIN_VALUE", "{below}");
    let bulk = s.data("mutation { updateProducts(where: {}, set: {price: {increment: \"1.5\"}}) { count rows { price } } }", &none)["updateProducts"].clone();
    assert_eq!(bulk["rows"][0]["price"], "5.60");
}

/// The shop's roles: anonymous shoppers see active products without their stock; a customer sees
/// only their own profile and orders, places orders as themselves (pending, with lines only on
/// their own pending orders) and cannot read or change anyone else's.
#[test]
fn customers_see_and_change_only_their_own_orders() {
    let s = Server::start();
    let none = json!({});
    let ids = s.data(
        "mutation { ann: createCustomer(input: {email: \"ann@b.io\", fullName: \"Ann\"}) { id } bob: createCustomer(input: {email: \"bob@b.io\", fullName: \"Bob\"}) { id }
                    cat: createCategory(input: {name: \"Tools\", slug: \"tools\"}) { id } }",
        &none,
    );
    let (ann, bob, cat) = (ids["ann"]["id"].as_str().unwrap().to_string(), ids["bob"]["id"].as_str().unwrap().to_string(), ids["cat"]["id"].clone());
    s.data(
        "mutation($c: ID!) { a: createProduct(input: {sku: \"HAM\", name: \"Hammer\", price: \"9.50\", stock: 3, categoryId: $c}) { id }
                            b: createProduct(input: {sku: \"OLD\", name: \"Old saw\", price: \"1.00\", active: false, categoryId: $c}) { id }
                            c: createProduct(input: {sku: \"SAW\", name: \"Saw\", price: \"12.00\", categoryId: $c}) { id } }",
        &json!({"c": cat}),
    );
    let bobs = s.data("mutation($c: ID!) { createOrder(input: {customerId: $c, notes: \"Bob's\"}) { id } }", &json!({"c": bob}))["createOrder"]["id"].clone();

    let anonymous = s.0.send(None, "{ products { sku } }", json!({})).1;
    assert_eq!(anonymous["data"]["products"], json!([{"sku": "HAM"}, {"sku": "SAW"}]));
    let stock = s.0.send(None, "{ products { stock } }", json!({})).1;
    assert!(stock["errors"][0]["message"].as_str().unwrap().contains("stock"), "{stock}");

    let as_ann = |query: &str, vars: &Value| s.gql_as("customer", &ann, query, vars);
    assert_eq!(as_ann("{ customers { fullName } }", &none)["data"]["customers"], json!([{"fullName": "Ann"}]));
    assert_eq!(as_ann("{ orders { id } ordersAggregate { count } }", &none)["data"], json!({"orders": [], "ordersAggregate": {"count": 0}}));
    assert_eq!(as_ann("query($id: ID!) { order(id: $id) { id } }", &json!({"id": bobs}))["data"]["order"], Value::Null);
    // Ann's order is hers whatever she sends; she cannot name another customer.
    let mine = as_ann("mutation { createOrder(input: {notes: \"Ann's\"}) { id status customer { fullName } } }", &none);
    assert_eq!(mine["data"]["createOrder"]["customer"]["fullName"], "Ann", "{mine}");
    let mine = mine["data"]["createOrder"]["id"].clone();
    let forged = as_ann("mutation($c: ID!) { createOrder(input: {customerId: $c}) { id } }", &json!({"c": bob}));
    assert!(forged["data"].is_null() && forged["errors"].is_array(), "{forged}");
    // Lines go on her own pending orders only.
    let line = "mutation($o: ID!) { createOrderLine(input: {orderId: $o, productId: 1, quantity: 2, unitPrice: \"9.50\"}) { id order { notes } } }";
    assert_eq!(as_ann(line, &json!({"o": mine}))["data"]["createOrderLine"]["order"]["notes"], "Ann's");
    // Bob's order is not hers to see: it is as missing as an order that does not exist.
    assert_eq!(as_ann(line, &json!({"o": bobs}))["errors"][0]["extensions"]["code"], "FOREIGN_KEY_VIOLATION");
    assert_eq!(s.data("{ orderLinesAggregate { count } }", &none)["orderLinesAggregate"]["count"], 1, "the refused line was rolled back");
    // Updates reach her own pending orders; Bob's reads as missing.
    let upd = "mutation($id: ID!) { updateOrder(id: $id, input: {notes: \"changed\"}) { notes } }";
    assert_eq!(as_ann(upd, &json!({"id": mine}))["data"]["updateOrder"]["notes"], "changed");
    assert_eq!(as_ann(upd, &json!({"id": bobs}))["errors"][0]["extensions"]["code"], "NOT_FOUND");
    s.data("mutation($id: ID!) { updateOrder(id: $id, input: {status: PAID}) { id } }", &json!({"id": mine}));
    assert_eq!(as_ann(upd, &json!({"id": mine}))["errors"][0]["extensions"]["code"], "NOT_FOUND", "a paid order is no longer hers to change");
    let late = as_ann(&line.replace("productId: 1", "productId: 3"), &json!({"o": mine}));
    assert_eq!(late["errors"][0]["extensions"]["code"], "FORBIDDEN", "her order, but paid: the line breaks the check: {late}");
    let bulk = as_ann("mutation { updateOrders(where: {}, set: {notes: \"all\"}) { count } }", &none);
    assert_eq!(bulk["data"]["updateOrders"]["count"], 0, "{bulk}");
    assert_eq!(s.data("query($id: ID!) { order(id: $id) { notes } }", &json!({"id": bobs}))["order"]["notes"], "Bob's");
}
