//! The site the example serves: a home page, an index per section,
//! numbered pages, and a server that misbehaves on purpose (the faults in
//! the table of the crate docs).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use weft_runtime::streams::{start_server, Server, StreamReader, StreamWriter};
use weft_runtime::{sleep, time};

use crate::http::{read_request, Reply};

// The faults the server injects (see the table in the docs of `main.rs`).
const SHOP_OUTAGE: Duration = Duration::from_millis(450);
const SLOW_PAGE_DELAY: Duration = Duration::from_millis(300);
const THROTTLED_HITS: u32 = 2;
const THROTTLE_RETRY_AFTER: &str = "0.04";

// The site: a home page, an index per section, numbered pages. Every page
// links home, to its section's index, to the next page, and into the next
// section; every eighth page also has a link to a page that does not exist.

const SECTIONS: [(&str, u32); 4] = [("blog", 20), ("docs", 20), ("shop", 8), ("wiki", 15)];

/// The links on the page at `path`, or `None` if there is no such page.
fn links_of(path: &str) -> Option<Vec<String>> {
    if path == "/" {
        return Some(SECTIONS.iter().map(|(s, _)| format!("/{s}/")).collect());
    }
    let (section, page) = path.strip_prefix('/')?.split_once('/')?;
    let position = SECTIONS.iter().position(|(s, _)| *s == section)?;
    let count = SECTIONS[position].1;
    if page.is_empty() {
        return Some((0..count).map(|n| format!("/{section}/{n}")).collect());
    }
    let n = page_number(path).filter(|n| *n < count)?;
    let mut links = vec!["/".to_string(), format!("/{section}/")];
    if n + 1 < count {
        links.push(format!("/{section}/{}", n + 1));
    }
    let (next_section, next_count) = SECTIONS[(position + 1) % SECTIONS.len()];
    links.push(format!("/{next_section}/{}", (n * 7 + 3) % next_count));
    if n % 8 == 7 {
        links.push(format!("/{section}/{}", count + n));
    }
    Some(links)
}

/// The number of a page such as `/blog/7`.
fn page_number(path: &str) -> Option<u32> {
    path.rsplit('/').next()?.parse().ok()
}

/// The section a path belongs to: its first segment (`home` for `/`).
pub(crate) fn section_of(path: &str) -> &str {
    match path.trim_start_matches('/').split_once('/') {
        Some((section, _)) => section,
        None => "home",
    }
}

/// Every page reachable from the home page, found by walking `links_of`:
/// what a complete crawl must fetch.
pub(crate) fn reachable_pages() -> BTreeSet<String> {
    let mut pages = BTreeSet::new();
    let mut to_visit = vec!["/".to_string()];
    while let Some(path) = to_visit.pop() {
        if let Some(links) = links_of(&path) {
            if pages.insert(path) {
                to_visit.extend(links);
            }
        }
    }
    pages
}

/// A page's HTML.
fn render(path: &str, links: &[String]) -> String {
    let anchors: String = links
        .iter()
        .map(|link| format!("<li><a href=\"{link}\">{link}</a></li>"))
        .collect();
    format!("<html><head><title>{path}</title></head><body><h1>{path}</h1><ul>{anchors}</ul></body></html>")
}

/// The targets of the `href` attributes in `html`.
pub(crate) fn links_in(html: &str) -> impl Iterator<Item = &str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(link, _)| link)
}

// The server: one handler task per connection (weft's `start_server`),
// which reads one request, answers it, and closes.

/// The site and its faults, with what the server counted.
#[derive(Default)]
pub(crate) struct FaultySite {
    /// Requests received per path, to fail only the first few.
    pub(crate) hits: RefCell<HashMap<String, u32>>,
    /// When the shop's outage ends (it starts with the first shop request).
    pub(crate) shop_down_until: Cell<Option<Instant>>,
    /// Answers sent, by status.
    pub(crate) answers: RefCell<BTreeMap<u16, u32>>,
    /// Answers that were held back to be slow.
    pub(crate) slow_answers: Cell<u32>,
}

impl FaultySite {
    /// Starts serving on a port the OS picks.
    pub(crate) async fn serve(self: Rc<Self>) -> io::Result<Server> {
        start_server(
            move |reader, writer| self.clone().serve_connection(reader, writer),
            "127.0.0.1:0",
        )
        .await
    }

    async fn serve_connection(self: Rc<Self>, mut reader: StreamReader, mut writer: StreamWriter) {
        let reply = match read_request(&mut reader).await {
            Ok(path) => self.answer(&path).await,
            Err(error) => Reply::new(400, "Bad Request", error.to_string()),
        };
        *self.answers.borrow_mut().entry(reply.status).or_default() += 1;
        // The client may have given up already (its attempt timed out); the
        // write or the close then fails, and there is nobody to tell.
        if writer.write(&reply.to_bytes()).is_ok() {
            writer.close();
            let _ = writer.wait_closed().await;
        }
    }

    async fn answer(&self, path: &str) -> Reply {
        let hit = {
            let mut hits = self.hits.borrow_mut();
            let hit = hits.entry(path.to_string()).or_default();
            *hit += 1;
            *hit
        };
        let section = section_of(path);
        let number = page_number(path);
        if section == "shop" && self.shop_is_down() {
            return Reply::new(
                500,
                "Internal Server Error",
                "shop backend unavailable".into(),
            );
        }
        if section == "blog" && number.is_some_and(|n| n % 4 == 1) && hit <= THROTTLED_HITS {
            let mut reply = Reply::new(503, "Service Unavailable", "busy, come back later".into());
            reply.retry_after = Some(THROTTLE_RETRY_AFTER);
            return reply;
        }
        if section == "docs" && number.is_some_and(|n| n % 6 == 2) && hit == 1 {
            self.slow_answers.set(self.slow_answers.get() + 1);
            sleep(SLOW_PAGE_DELAY).await;
        }
        match links_of(path) {
            Some(links) => Reply::new(200, "OK", render(path, &links)),
            None => Reply::new(404, "Not Found", format!("no page at {path}")),
        }
    }

    /// Whether the shop is in its outage, which starts with the first
    /// request to it.
    fn shop_is_down(&self) -> bool {
        let now = time::now();
        let until = self.shop_down_until.get().unwrap_or(now + SHOP_OUTAGE);
        self.shop_down_until.set(Some(until));
        now < until
    }
}
