//! How the OpenAPI document describes an entry's `action` and `details`: the entry keeps
//! them as a string and a JSON object, but clients see every action as an enum value and
//! every key `details` may hold, so a generated client can read `details.status.to`.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Every action an activity entry records (and the `event:` of its server-sent event).
/// The projects crate's tests fail when its code writes an action missing here, so the
/// document cannot fall behind the code.
pub const ACTIONS: &[&str] = &[
    "team.created",
    "team.updated",
    "team.deleted",
    "member.added",
    "member.role_changed",
    "member.removed",
    "project.created",
    "project.updated",
    "project.deleted",
    "task.created",
    "task.updated",
    "task.assigned",
    "task.status_changed",
    "task.deleted",
    "comment.created",
    "comment.updated",
    "comment.deleted",
];

/// The schema of `action` (`ActivityAction`: a string enum of [`ACTIONS`]).
#[derive(Debug)]
pub struct ActivityAction;

impl PartialSchema for ActivityAction {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ACTIONS.iter().copied()))
            .description(Some("What happened: the action an activity entry records."))
            .into()
    }
}

impl ToSchema for ActivityAction {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ActivityAction")
    }
}

/// The schema of `details` (`ActivityDetails`): an object whose keys depend on the action.
#[derive(Debug)]
pub struct ActivityDetails;

fn typed(kind: Type, nullable: bool) -> ObjectBuilder {
    let builder = ObjectBuilder::new();
    if nullable {
        builder.schema_type(SchemaType::from_iter([kind, Type::Null]))
    } else {
        builder.schema_type(kind)
    }
}

fn uuid(nullable: bool) -> ObjectBuilder {
    typed(Type::String, nullable).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// `{"from": old, "to": new}` of a changed field, both of schema `value`.
fn change(value: impl Into<Schema>) -> Schema {
    let value: Schema = value.into();
    ObjectBuilder::new()
        .property("from", value.clone())
        .property("to", value)
        .required("from")
        .required("to")
        .description(Some("A changed field: its value before and after."))
        .into()
}

/// A key that holds the value itself in one action and its change in another.
fn value_or_change(value: ObjectBuilder, description: &str) -> Schema {
    let plain: Schema = value.into();
    OneOfBuilder::new().item(plain.clone()).item(change(plain)).description(Some(description)).into()
}

fn with_description(schema: Schema, description: &str) -> Schema {
    match schema {
        Schema::Object(mut object) => {
            object.description = Some(description.to_string());
            Schema::Object(object)
        }
        other => other,
    }
}

impl PartialSchema for ActivityDetails {
    fn schema() -> RefOr<Schema> {
        let string = || typed(Type::String, false);
        let properties: [(&str, Schema); 14] = [
            ("name", value_or_change(string(), "Team or project name: created/deleted, or `{from, to}` when renamed")),
            ("title", value_or_change(string(), "Task title: created/deleted, or `{from, to}` when changed")),
            (
                "description",
                with_description(change(typed(Type::String, true)), "`{from, to}` of a changed description"),
            ),
            ("status", value_or_change(string(), "Task status: on `task.created`, or `{from, to}` when changed")),
            ("priority", value_or_change(string(), "Task priority: on `task.created`, or `{from, to}` when changed")),
            (
                "due_date",
                with_description(
                    change(typed(Type::String, true)),
                    "`{from, to}` of a changed due date (`YYYY-MM-DD` or null)",
                ),
            ),
            (
                "assignee_id",
                value_or_change(uuid(true), "Assignee: on `task.created`, or `{from, to}` when (un)assigned"),
            ),
            (
                "archived",
                with_description(change(typed(Type::Boolean, false)), "`{from, to}` when a project is (un)archived"),
            ),
            (
                "role",
                value_or_change(string(), "Member role: on `member.added`, or `{from, to}` on `member.role_changed`"),
            ),
            ("user_id", uuid(false).description(Some("The member added, removed or changed")).into()),
            ("comment_id", uuid(false).description(Some("The comment of a `comment.*` action")).into()),
            (
                "left",
                typed(Type::Boolean, false).description(Some("`member.removed`: the member left by themselves")).into(),
            ),
            (
                "unassigned_tasks",
                typed(Type::Integer, false)
                    .description(Some("`member.removed`: how many tasks lost their assignee"))
                    .into(),
            ),
            ("via", string().description(Some("`member.added`: `invite` when joined by an invitation")).into()),
        ];
        let mut object = ObjectBuilder::new().schema_type(Type::Object).description(Some(
            "What changed: `{\"field\": {\"from\": old, \"to\": new}}` per changed field, plus the context the \
             action records (e.g. `title` of a created task). Which keys appear depends on `action`; \
             clients should ignore keys they do not know.",
        ));
        for (name, schema) in properties {
            object = object.property(name, schema);
        }
        object.into()
    }
}

impl ToSchema for ActivityDetails {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ActivityDetails")
    }
}
