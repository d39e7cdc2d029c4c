//! What answers a request no route took: 405 with `Allow` when the path exists under other
//! methods, 404 otherwise; both as problem documents.
//!
//! The paths and their methods come from the generated OpenAPI document, so this list can
//! never disagree with the routes (every route is in the document: a test checks it).

use actix_web::dev::ResourceDef;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use core_models::http::problem_response;
use core_models::Problem;
use utoipa::openapi::OpenApi;

/// Every documented path with the methods it answers.
#[derive(Debug)]
pub struct KnownPaths(Vec<(ResourceDef, String)>);

impl KnownPaths {
    /// The paths of `api` (`/api/v1/notes/{id}` patterns) and their methods.
    pub fn from_openapi(api: &OpenApi) -> Self {
        let paths = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let allow: Vec<&str> = methods.iter().filter(|(_, has)| *has).map(|(m, _)| *m).collect();
                (ResourceDef::new(path.as_str()), allow.join(", "))
            })
            .collect();
        KnownPaths(paths)
    }

    /// The answer for a request that matched no route.
    pub fn answer(&self, req: &HttpRequest) -> HttpResponse {
        match self.0.iter().find(|(def, _)| def.is_match(req.path())) {
            Some((_, allow)) => {
                let detail = format!("{} is not supported here; allowed: {allow}", crate::head::sent_method(req));
                let mut response = problem_response(&Problem::new(405, detail));
                if let Ok(value) = header::HeaderValue::from_str(allow) {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                response
            }
            None => problem_response(&Problem::new(404, "no resource at this path")),
        }
    }
}
