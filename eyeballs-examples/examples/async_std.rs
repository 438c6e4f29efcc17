//! eyeballs on async-std's executor (eyeballs-async-std serves async-std and smol alike):
//! `connect` with a list of addresses races them without DNS, IPv6 first.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};

fn main() -> std::io::Result<()> {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    async_std::task::block_on(async {
        let addrs = [lab.addr(V6), lab.addr(V4)];
        let stream = eyeballs_async_std::connect(&addrs[..]).await?;
        println!("connected to {} (IPv6 refused)", stream.peer_addr()?);
        assert_eq!(stream.peer_addr()?, lab.addr(V4));
        Ok(())
    })
}
