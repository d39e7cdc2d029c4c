//! How the OpenAPI document describes an entry's `action` and `details`: the entry keeps
//! them as a string and a JSON object, but clients see every action as an enum value and
//! every key `details` may hold, so a generated client can read `details.status.to`.

use std::borrow::Cow;

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type};
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
    "task.moved",
    "tasks.rebalanced",
    "task.deleted",
    "task.labeled",
    "task.unlabeled",
    "label.created",
    "label.updated",
    "label.deleted",
    "comment.created",
    "comment.updated",
    "comment.deleted",
    "webhook.created",
    "webhook.updated",
    "webhook.secret_rotated",
    "webhook.deleted",
    "webhook.disabled",
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

/// A user as `details` names one: `{id, display_name}` (or null where nobody is named).
/// A label as `details` names one: `{id, name, color}`.
fn label() -> ObjectBuilder {
    typed(Type::Object, false)
        .property("id", uuid(false))
        .property("name", typed(Type::String, false))
        .property("color", typed(Type::String, false))
        .required("id")
        .required("name")
        .required("color")
}

fn person(nullable: bool) -> ObjectBuilder {
    typed(Type::Object, nullable)
        .property("id", uuid(false))
        .property("display_name", typed(Type::String, false))
        .required("id")
        .required("display_name")
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

/// A place on a board, `{status, position}` (the two sides of a `task.moved`).
fn place(description: &str) -> Schema {
    typed(Type::Object, false)
        .property("status", typed(Type::String, false))
        .property("position", typed(Type::String, false))
        .required("status")
        .required("position")
        .description(Some(description))
        .into()
}

impl PartialSchema for ActivityDetails {
    fn schema() -> RefOr<Schema> {
        let string = || typed(Type::String, false);
        let properties: [(&str, Schema); 33] = [
            ("name", value_or_change(string(), "Team or project name: created/deleted, or `{from, to}` when renamed")),
            ("title", value_or_change(string(), "Task title: created/deleted, or `{from, to}` when changed")),
            (
                "description",
                value_or_change(
                    typed(Type::String, true),
                    "Task description: on `task.created`, or `{from, to}` when changed",
                ),
            ),
            (
                "status",
                value_or_change(
                    string(),
                    "Task status: on `task.created` (and the column of a `tasks.rebalanced`), or `{from, to}` when changed",
                ),
            ),
            ("priority", value_or_change(string(), "Task priority: on `task.created`, or `{from, to}` when changed")),
            (
                "due_date",
                value_or_change(
                    typed(Type::String, true),
                    "Due date (`YYYY-MM-DD` or null): on `task.created`, or `{from, to}` when changed",
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
            (
                "assignee",
                value_or_change(
                    person(true),
                    "Assignee with its name (null: nobody): on `task.created`, or `{from, to}` when (un)assigned",
                ),
            ),
            (
                "created_by",
                person(false).description(Some("`task.created`: who created the task, with its name")).into(),
            ),
            ("version", typed(Type::Integer, false).description(Some("`task.created`: the task's version (1); `task.labeled` / `task.unlabeled`: its version after the change")).into()),
            (
                "user",
                person(false)
                    .description(Some("`member.*`: the member added, removed or changed, with its name"))
                    .into(),
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
            ("from", place("`task.moved`: where the task stood before the move")),
            ("to", place("`task.moved`: where the move put the task")),
            (
                "position",
                value_or_change(
                    string(),
                    "Board position: on `task.created`, or `{from, to}` when a status change put the task at the end \
                     of its new column",
                ),
            ),
            (
                "labels",
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(label())
                    .description(Some(
                        "`task.labeled` / `task.unlabeled`: the labels added / removed; `task.created`: the task's labels",
                    ))
                    .into(),
            ),
            (
                "task_labels",
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(label())
                    .description(Some("`task.labeled` / `task.unlabeled`: every label the task carries after the change"))
                    .into(),
            ),
            ("label", label().description(Some("`label.*`: the label (after the change)")).into()),
            ("color", with_description(change(string()), "`label.updated`: `{from, to}` when recoloured")),
            (
                "tasks",
                typed(Type::Integer, false)
                    .description(Some(
                        "`tasks.rebalanced`: how many other tasks of the column got new positions; `label.updated` / \
                         `label.deleted`: how many tasks carry(ied) the label",
                    ))
                    .into(),
            ),
            (
                "mentions",
                ArrayBuilder::new()
                    .items(uuid(false))
                    .description(Some("`comment.created`/`comment.updated`: every member the comment mentions now"))
                    .into(),
            ),
            (
                "new_mentions",
                ArrayBuilder::new()
                    .items(uuid(false))
                    .description(Some(
                        "`comment.created`/`comment.updated`: the members this write newly mentions (they are notified)",
                    ))
                    .into(),
            ),
            ("webhook_id", uuid(false).description(Some("The webhook of a `webhook.*` action")).into()),
            ("url", value_or_change(string(), "`webhook.*`: the webhook's URL, or `{from, to}` when changed")),
            ("events", {
                let list: Schema = string().to_array_builder().into();
                OneOfBuilder::new()
                    .item(list.clone())
                    .item(change(list))
                    .description(Some("`webhook.created`: the actions it receives, or `{from, to}` when changed"))
                    .into()
            }),
            (
                "active",
                with_description(
                    change(typed(Type::Boolean, false)),
                    "`{from, to}` when a webhook is switched off or on (`webhook.updated`, `webhook.disabled`)",
                ),
            ),
            (
                "reason",
                string().description(Some("`webhook.disabled`: why the server switched the webhook off")).into(),
            ),
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
