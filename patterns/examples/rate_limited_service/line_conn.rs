//! [`LineConn`]: a connection that speaks in lines, for the server and its
//! clients.

use std::io;

use weft_runtime::streams::{StreamReader, StreamWriter};

/// A connection that speaks in lines, for the server and its clients.
pub(crate) struct LineConn {
    pub(crate) reader: StreamReader,
    pub(crate) writer: StreamWriter,
}

impl LineConn {
    /// The next line without its line ending, or `None` at the end of the
    /// stream. A line longer than the reader's limit is an error.
    pub(crate) async fn read_line(&mut self) -> io::Result<Option<String>> {
        let line = self.reader.readline().await?;
        if line.is_empty() {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&line);
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
    }

    pub(crate) async fn write_line(&mut self, line: &str) -> io::Result<()> {
        self.writer.write(format!("{line}\n").as_bytes())?;
        self.writer.drain().await
    }
}
