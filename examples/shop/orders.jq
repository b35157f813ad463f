# orders.jq: the order desk's tools (tools.yaml) over the shop's state.
# Input: {"name", "arguments", "id", "record", "state"}, as scg-turn
# --tool-cmd gives it; output: {"result", "state"}, the state changed
# when the call changed the shop. An error is {"error": ...}, which the
# assistant reads and can correct.
def out(r): {result: r, state: .state};
def missing: {error: "there is no order \(.arguments.order_id)"};
.arguments as $a
| .state.orders[$a.order_id // ""] as $o
| if .name == "list_orders" then
    out([.state.orders | to_entries[] | select(.value.email == $a.email)
         | {order_id: .key, placed: .value.placed, status: .value.status}]
        | sort_by(.placed) | reverse)
  elif .name == "find_order" then
    if $o == null then out(missing) else out($o + {order_id: $a.order_id}) end
  elif $o == null then
    out(missing)
  elif $o.status != "processing" then
    out({error: "order \($a.order_id) is \($o.status): it can no longer be changed"})
  elif .name == "update_address" then
    .state.orders[$a.order_id].address = $a.address
    | out({order_id: $a.order_id, address: $a.address})
  elif .name == "cancel_order" then
    .state.orders[$a.order_id].status = "cancelled"
    | .state.orders[$a.order_id].refund = ([$o.items[] | .qty * .price] | add)
    | out({order_id: $a.order_id, status: "cancelled", refund: .state.orders[$a.order_id].refund})
  else
    out({error: "no tool \(.name)"})
  end
