//! The input unit: one comment, with the post it answers when known.

use std::borrow::Cow;
use std::sync::Arc;

/// The post (article, video, thread) a comment answers.
///
/// ```
/// use comment_sieve::{Comment, Post};
/// use std::sync::Arc;
/// let post = Arc::new(Post { id: Some("p1".into()), title: Some("Budget".into()), body: None });
/// let a = Comment::new("a", "first").with_post(post.clone());
/// let b = Comment::new("b", "second").with_post(post);
/// assert_eq!(a.post_id(), b.post_id());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Post<'a> {
    /// The post's identifier in its source.
    pub id: Option<Cow<'a, str>>,
    /// The post's title.
    pub title: Option<Cow<'a, str>>,
    /// The post's body text (may hold HTML).
    pub body: Option<Cow<'a, str>>,
}

/// One comment to classify.
///
/// Fields borrow where they can, so scoring a buffer of parsed records does not copy texts.
///
/// ```
/// use comment_sieve::Comment;
/// let comment = Comment::new("c1", "Great point about the budget.")
///     .with_post_title("Budget 2026: what changes");
/// assert_eq!(comment.text, "Great point about the budget.");
/// assert_eq!(comment.post.unwrap().title.as_deref(), Some("Budget 2026: what changes"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comment<'a> {
    /// The comment's identifier in its source.
    pub id: Cow<'a, str>,
    /// The comment's text (may hold HTML).
    pub text: Cow<'a, str>,
    /// The post it answers, when known. Shared, so the comments of one post need not copy
    /// its title and body.
    pub post: Option<Arc<Post<'a>>>,
    /// The comment it replies to, when it is a reply.
    pub parent_id: Option<Cow<'a, str>>,
    /// Who wrote it, when known.
    pub author: Option<Cow<'a, str>>,
    /// The website its author gave, when the source has such a field: `Some("")` when the
    /// field is there but empty (WordPress' `comment_author_url`, Blogger's `author/uri`, a
    /// JSON `author_url`), `None` when the source has no such field.
    pub author_url: Option<Cow<'a, str>>,
}

impl<'a> Comment<'a> {
    /// A comment with an id and a text, and no context.
    pub fn new(id: impl Into<Cow<'a, str>>, text: impl Into<Cow<'a, str>>) -> Self {
        Comment {
            id: id.into(),
            text: text.into(),
            ..Comment::default()
        }
    }

    /// Sets the post's title, creating the post if needed.
    pub fn with_post_title(mut self, title: impl Into<Cow<'a, str>>) -> Self {
        Arc::make_mut(self.post.get_or_insert_with(Default::default)).title = Some(title.into());
        self
    }

    /// Sets the post's body, creating the post if needed.
    pub fn with_post_body(mut self, body: impl Into<Cow<'a, str>>) -> Self {
        Arc::make_mut(self.post.get_or_insert_with(Default::default)).body = Some(body.into());
        self
    }

    /// Sets the post's id, creating the post if needed.
    pub fn with_post_id(mut self, id: impl Into<Cow<'a, str>>) -> Self {
        Arc::make_mut(self.post.get_or_insert_with(Default::default)).id = Some(id.into());
        self
    }

    /// Attaches a (shared) post.
    pub fn with_post(mut self, post: Arc<Post<'a>>) -> Self {
        self.post = Some(post);
        self
    }

    /// Sets the id of the comment this one replies to.
    pub fn with_parent_id(mut self, parent_id: impl Into<Cow<'a, str>>) -> Self {
        self.parent_id = Some(parent_id.into());
        self
    }

    /// Sets the author.
    pub fn with_author(mut self, author: impl Into<Cow<'a, str>>) -> Self {
        self.author = Some(author.into());
        self
    }

    /// Sets the website the author gave (empty: the source has the field, left blank).
    pub fn with_author_url(mut self, url: impl Into<Cow<'a, str>>) -> Self {
        self.author_url = Some(url.into());
        self
    }

    /// The post's id, when known.
    pub fn post_id(&self) -> Option<&str> {
        self.post.as_ref().and_then(|p| p.id.as_deref())
    }
}
