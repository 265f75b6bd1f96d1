exports = function () {
  throw new Error("fail: on purpose");
};
