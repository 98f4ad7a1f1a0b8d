// "Show more" paging over an offset-paginated API list, written once for every list page: each click fetches
// the next page, hands its items to the page, and hides the button once a short page says the list ended.

/**
 * load(offset, limit) -> Promise<items[]>; show(items, shown) puts them in the page (shown: the count so far).
 * Errors from load or show are passed to onError (the button comes back for another try).
 */
export function pager({ button, pageSize, load, show, onError }) {
  let shown = 0;
  let busy = false;

  async function more() {
    if (busy) return; // a double click asks once
    busy = true;
    button.disabled = true;
    try {
      const items = await load(shown, pageSize);
      shown += items.length;
      await show(items, shown);
      button.hidden = items.length < pageSize;
    } catch (error) {
      onError(error);
    } finally {
      busy = false;
      button.disabled = false;
    }
  }

  button.addEventListener("click", more);
  return {
    more,
    /** Start again from the first page (the caller empties its list). */
    reset() {
      shown = 0;
      return more();
    },
    /** An item left the list (e.g. a decided case): the next page starts one earlier. */
    removed(count = 1) {
      shown = Math.max(0, shown - count);
    },
    get shown() {
      return shown;
    },
  };
}
